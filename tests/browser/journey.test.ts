import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { BROWSER_UA } from "../support/collect.ts";
import { type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { startHostPages, type THostPages } from "../support/host-pages.ts";
import { findInvariantViolations } from "../support/ingest-invariants.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { heading, recordOverRest, screenshot } from "./dashboard-page.ts";

/**
 * The promise of the product in one run: a visitor's browser events (the snippet on the
 * customer's own site) and a server event the customer's backend records for the same `_fn_vid`
 * land on one profile, and the dashboard, open the whole time, shows them live and in order.
 */
let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;
let browser: TBrowser;
let shop: THostPages;
let dashboard: Page;
let storefront: Page;
const pageErrors: string[] = [];
const email = `journey-${uid()}@example.com`;

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ name: "Shop", domain: "shop.localhost" });
  cookie = await app.login(seed.owner.email, seed.owner.password);
  shop = await startHostPages(`${app.baseUrl}/fz.js`, seed.site.id);
  // A desktop Chrome's user agent: the collect door ignores HeadlessChrome as a bot.
  browser = await launchBrowser({ userAgent: BROWSER_UA });
  dashboard = browser.context.pages()[0] ?? (await browser.context.newPage());
  for (const p of [dashboard, (storefront = await browser.context.newPage())]) {
    p.on("pageerror", (err) => void pageErrors.push(err.message));
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await app?.close();
});

const liveRows = () => dashboard.locator("table.events tbody tr");
const visitorCookie = async () => (await browser.context.cookies(shop.url("shop.localhost")))[0]?.value;

describe("one visitor, browser and server, on one live timeline", () => {
  let visitorId: string;

  it("the dashboard, logged in, watches the site's live events", async () => {
    await dashboard.goto(`${app.baseUrl}/app/`);
    await heading(dashboard, "Log in");
    await dashboard.getByLabel("Email", { exact: true }).fill(seed.owner.email);
    await dashboard.getByLabel("Password").fill(seed.owner.password);
    await dashboard.getByRole("button", { name: "Log in" }).click();
    await dashboard.getByRole("link", { name: `Live events of ${seed.site.name}` }).click();
    await heading(dashboard, "Live events");
    await dashboard.evaluate("window.noReload = true");
    expect(await liveRows().count()).toBe(0);
  });

  it("the snippet on the shop's page: a pageview, a History API navigation, an event and an identify", async () => {
    await storefront.goto(shop.url("shop.localhost", "/?utm_source=newsletter&utm_medium=email"));
    await expect.poll(visitorCookie).toMatch(/^v_[0-9a-f]{32}$/);
    visitorId = (await visitorCookie())!;
    await dashboard.getByRole("row", { name: /pageview/ }).waitFor();

    await storefront.evaluate("history.pushState({}, '', '/pricing')");
    await storefront.evaluate("funnelfizz('event', 'pricing_viewed', { plan: 'pro' })");
    await storefront.evaluate(`funnelfizz('identify', ${JSON.stringify(email)})`);
    await dashboard.getByRole("row", { name: /identify/ }).waitFor({ timeout: 15_000 });

    const stored = await app.db.prisma.trackingEvent.findMany({
      where: { siteId: seed.site.id, visitorId },
      orderBy: [{ occurredAt: "asc" }, { id: "asc" }],
    });
    expect(stored.map((e) => [e.type, e.source, e.path])).toEqual([
      ["pageview", "CLIENT", "/?utm_source=newsletter&utm_medium=email"],
      ["pageview", "CLIENT", "/pricing"],
      ["pricing_viewed", "CLIENT", "/pricing"],
      ["identify", "CLIENT", "/pricing"],
    ]);
    expect(stored[0]!.channel).toBe("email");
  });

  it("a server event for the same _fn_vid lands on the same profile and moves it to TRIAL", async () => {
    const recorded = await recordOverRest(app, cookie, { workspaceId: seed.workspace.id, siteId: seed.site.id }, [
      { type: "trial_start", visitorId, props: { plan: "pro" } },
    ]);
    const [event] = recorded.events;
    expect(event).toMatchObject({ status: "recorded", stage: "TRIAL" });
    const browserProfiles = await app.db.prisma.trackingEvent.findMany({
      where: { siteId: seed.site.id, visitorId, source: "CLIENT" },
      select: { profileId: true },
      distinct: ["profileId"],
    });
    expect(browserProfiles).toEqual([{ profileId: event!.profileId }]);

    await dashboard.getByRole("row", { name: /trial_start/ }).waitFor();
    const live = await liveRows().allInnerTexts();
    expect(live).toHaveLength(5);
    expect(live[0]).toMatch(/trial_start[\s\S]*Server/);
    expect(live.slice(1).every((row) => row.includes("Browser"))).toBe(true);
    expect(await dashboard.evaluate<boolean>("window.noReload === true")).toBe(true);
    expect(await findInvariantViolations(app.db.prisma, seed.workspace.id)).toEqual([]);
  });

  it("the profile page shows both sources on one timeline, newest first, at TRIAL", async () => {
    await liveRows()
      .nth(0)
      .getByRole("link", { name: /Profile of the trial_start event/ })
      .click();
    await heading(dashboard, /Profile /);
    const identifiers = await dashboard.getByRole("definition").allInnerTexts();
    expect(identifiers).toEqual(expect.arrayContaining([visitorId, email]));
    expect(await dashboard.getByRole("row", { name: new RegExp(seed.funnel.id) }).innerText()).toContain("TRIAL");

    const timeline = dashboard.locator("table.timeline tbody tr");
    await timeline.first().waitFor();
    const entries = await timeline.allInnerTexts();
    const typeAndSource = entries.map((e) => [
      /trial_start|identify|pricing_viewed|pageview/.exec(e)?.[0],
      /\bServer\b/.test(e) ? "Server" : /\bBrowser\b/.test(e) ? "Browser" : undefined,
    ]);
    expect(typeAndSource).toEqual([
      ["trial_start", "Server"],
      ["identify", "Browser"],
      ["pricing_viewed", "Browser"],
      ["pageview", "Browser"],
      ["pageview", "Browser"],
    ]);
    await screenshot(dashboard, "journey");
    expect(pageErrors).toEqual([]);
  });
});
