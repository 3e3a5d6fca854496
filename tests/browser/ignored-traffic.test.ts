import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { pageview, postCollect } from "../support/collect.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startHostPages, type THostPages } from "../support/host-pages.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { heading } from "./dashboard-page.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
let pages: THostPages;
// Chromium's own headless User-Agent (HeadlessChrome/…): what a Playwright test of a page sends.
let browser: TBrowser;

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp({ config: { COLLECT_VISITOR_RATE_LIMIT: "1" } });
  seed = await app.seedWorkspace({ domain: "shop.localhost", roles: ["MANAGER", "VIEW_ONLY"] });
  pages = await startHostPages(`${app.baseUrl}/fz.js`, seed.site.id, {
    "/debug": { tagAttributes: "data-debug" },
    "/debug-false": { tagAttributes: 'data-debug="false"' },
  });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await app?.close();
});

/** Opens a host page in the headless browser and waits for its first batch's answer; the console lines it logged. */
async function openHostPage(path: string): Promise<{ page: Page; logged: string[] }> {
  const page = await browser.context.newPage();
  const logged: string[] = [];
  page.on("console", (m) => void logged.push(`${m.type()}: ${m.text()}`));
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/collect");
  await page.goto(pages.url("shop.localhost", path));
  expect((await answered).status()).toBe(202);
  return { page, logged };
}

async function openInstallAs(user: { email: string; password: string }): Promise<Page> {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.goto(`${app.baseUrl}/app/login`);
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => !url.pathname.endsWith("/login"));
  await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/install`);
  await heading(page, "Install");
  await page.locator("#ignored-last-hour").waitFor();
  return page;
}

describe("a page tested with headless Chromium", () => {
  it("with data-debug, the snippet logs that the batch was ignored as a bot, and what it sent", async () => {
    const { page, logged } = await openHostPage("/debug");
    await expect.poll(() => logged.find((l) => l.includes("[funnelfizz]"))).toBeDefined();
    const line = logged.find((l) => l.includes("[funnelfizz]"))!;
    expect(line).toMatch(/^info: \[funnelfizz\] 202 ignored as bot: nothing recorded/);
    expect(line).toContain("sent:");
    await page.close();
  });

  it('without it (or with data-debug="false") the snippet logs nothing', async () => {
    for (const path of ["/", "/debug-false"]) {
      const { page, logged } = await openHostPage(path);
      // The answer has arrived; a log would follow in the same task as its body.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
      expect(logged.filter((l) => l.includes("funnelfizz"))).toEqual([]);
      await page.close();
    }
  });
});

describe("Install page", () => {
  it("shows the last hour's ignored counts after bot and rate-limited batches, each reason explained", async () => {
    // Three headless page loads above were ignored as bots; now a visitor over its limit.
    const batch = { siteId: seed.site.id, events: [pageview({ visitorId: "v_ignored_once" })] };
    const origin = pages.url("shop.localhost").replace(/\/$/, "");
    expect((await postCollect(app.baseUrl, { origin, body: batch })).status).toBe(200);
    expect((await postCollect(app.baseUrl, { origin, body: batch })).status).toBe(429);

    const page = await openInstallAs(seed.members.MANAGER!);
    expect(await page.locator("#ignored-last-hour").innerText()).toBe(
      "Ignored in the last hour: 3 bot, 1 rate limited.",
    );
    expect(await page.locator("#ignored-last-day").innerText()).toBe("In the last 24 hours: 3 bot, 1 rate limited.");
    expect(await page.locator('[data-reason="bot"] dd').innerText()).toContain("headless browser");
    expect(await page.locator('[data-reason="rate_limited"] dd').innerText()).toContain("Retry-After");

    // One more bot batch shows after a refresh, without reloading the page.
    await postCollect(app.baseUrl, { origin, body: batch, userAgent: "Mozilla/5.0 Playwright/1.49" });
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect
      .poll(() => page.locator("#ignored-last-hour").innerText())
      .toBe("Ignored in the last hour: 4 bot, 1 rate limited.");
    await page.close();
  });

  it("a MANAGER sees the snippet, the record curl and the test event button", async () => {
    const page = await openInstallAs(seed.members.MANAGER!);
    expect(await page.locator("#snippet").innerText()).toContain(`data-site="${seed.site.id}"`);
    expect(await page.locator("#curl-record").innerText()).toContain("/api/tracking/server-events");
    expect(await page.getByRole("button", { name: "Send a test server event" }).isEnabled()).toBe(true);
    expect(await page.locator("#record-role-note").count()).toBe(0);
    await page.close();
  });

  it("a VIEW_ONLY member sees the snippet, and instead of the curl a note saying whom to ask", async () => {
    const page = await openInstallAs(seed.members.VIEW_ONLY!);
    expect(await page.locator("#snippet").innerText()).toContain(`data-site="${seed.site.id}"`);
    expect(await page.locator("#curl-record").count()).toBe(0);
    expect(await page.locator("#curl-login").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Send a test server event" }).count()).toBe(0);
    expect(await page.locator("#record-role-note").innerText()).toMatch(
      /^Your role VIEW_ONLY can read this workspace's events but not record them.*ask an ADMIN/s,
    );
    // The ignored counts are for every member.
    expect(await page.locator("#ignored-last-hour").innerText()).toMatch(/^Ignored in the last hour: \d+ bot/);
    await page.close();
  });
});
