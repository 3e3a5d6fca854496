import { createHmac } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { pageview, postCollect } from "../support/collect.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { heading, lowContrastText } from "./dashboard-page.ts";

let app: TTestApp;
let browser: TBrowser;
let page: Page;
let seed: TSeededWorkspace;
const consoleErrors: string[] = [];

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ domain: "example.com", roles: ["VIEW_ONLY"] });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on("pageerror", (e) => void consoleErrors.push(e.message));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function openInstallAs(user: { email: string; password: string }) {
  await browser.context.clearCookies();
  await page.goto(`${app.baseUrl}/app/login`);
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => !url.pathname.endsWith("/login"));
  await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/install`);
  await heading(page, "Install");
  await page.locator("#identity-status").waitFor();
}

/** Whether the browser door keeps `email` sent with this HMAC. */
async function collectKeeps(email: string, emailHmac: string): Promise<boolean> {
  const event = pageview({ type: "identify", email, emailHmac } as object);
  const res = await postCollect(app.baseUrl, { body: { siteId: seed.site.id, events: [event] } });
  expect(res.status).toBe(200);
  const stored = await app.db.prisma.trackingEvent.findFirstOrThrow({ where: { messageId: event.messageId } });
  return stored.email === email;
}

describe("Install page: identity verification", () => {
  it("an ADMIN requires it and sees the secret once; the server code is shown; collect verifies with it", async () => {
    await openInstallAs(seed.owner);
    expect(await page.locator("#identity-status").innerText()).toMatch(/^Not required/);
    expect(await page.locator("#identity-node").innerText()).toContain('createHmac("sha256"');
    expect(await page.locator("#identity-python").innerText()).toContain("hashlib.sha256");
    expect(await page.locator("#identity-identify").innerText()).toContain("{ emailHmac:");

    await page.getByRole("button", { name: "Require verification" }).click();
    await page.locator("#identity-secret").waitFor();
    const secret = await page.locator("#identity-secret").innerText();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    await expect.poll(() => page.locator("#identity-status").innerText()).toMatch(/^Required/);
    expect(await lowContrastText(page)).toEqual([]);

    const hmac = createHmac("sha256", secret).update("buyer@example.com").digest("hex");
    expect(await collectKeeps("buyer@example.com", hmac)).toBe(true);
    expect(await collectKeeps("ceo@example.com", hmac)).toBe(false);

    // Shown once: a reload shows the setting, not the secret.
    await page.reload();
    await page.locator("#identity-status").waitFor();
    expect(await page.locator("#identity-secret").count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    await page.getByRole("button", { name: "Rotate the secret" }).click();
    await page.locator("#identity-secret").waitFor();
    expect(await page.locator("#identity-secret").innerText()).not.toBe(secret);
    expect(await collectKeeps("buyer@example.com", hmac)).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  it("a VIEW_ONLY member sees the setting but no buttons", async () => {
    await openInstallAs(seed.members.VIEW_ONLY!);
    expect(await page.locator("#identity-status").innerText()).toMatch(/^Required/);
    expect(await page.getByRole("button", { name: /verification|secret/ }).count()).toBe(0);
    expect(await page.getByText("Only an ADMIN of the workspace may change this").count()).toBe(1);
  });
});
