import { createHmac } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setIdentityVerification } from "../../server/tracking/identity-verification.repo.ts";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { BROWSER_UA } from "../support/collect.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startHostPages, type THostPages } from "../support/host-pages.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
let browser: TBrowser;
let pages: THostPages;
const pageErrors: string[] = [];

/** As the customer's backend computes it (docs/collect.md), here with node:crypto. */
const hmacOf = (secret: string, email: string) =>
  createHmac("sha256", secret).update(email.trim().toLowerCase()).digest("hex");

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ domain: "shop.localhost" });
  const change = await setIdentityVerification(app.db, app.config.secrets.key, {
    siteId: seed.site.id,
    required: true,
    rotate: false,
  });
  const secret = change!.secret!;
  // The page as the customer's server renders it: the HMAC written into the call next to the email.
  const verified = JSON.stringify({ emailHmac: hmacOf(secret, "Buyer@Example.com") });
  const forged = JSON.stringify({ emailHmac: hmacOf("a guess", "ceo@victim.test") });
  pages = await startHostPages(`${app.baseUrl}/fz.js`, seed.site.id, {
    "/verified": { before: `funnelfizz('identify', 'Buyer@Example.com', { plan: 'pro' }, ${verified});` },
    "/forged": { before: `funnelfizz('identify', 'ceo@victim.test', null, ${forged});` },
    "/malformed": { before: "funnelfizz('identify', 'ceo@victim.test', null, { emailHmac: 'not-hex' });" },
  });
  browser = await launchBrowser({ userAgent: BROWSER_UA });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await app?.close();
});

async function openPage(path: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${path}: ${err.message}`));
  await page.goto(pages.url("shop.localhost", path));
  return page;
}

const identifyOn = async (path: string) => {
  await expect
    .poll(() => app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id, path } }), { timeout: 10_000 })
    .toBe(2);
  return app.db.prisma.trackingEvent.findFirstOrThrow({ where: { siteId: seed.site.id, path, type: "identify" } });
};

describe("the snippet on a site that requires identity verification, in Chromium", () => {
  it("sends the emailHmac given to identify: the email is recorded, with its traits", async () => {
    const page = await openPage("/verified");
    const identify = await identifyOn("/verified");
    expect(identify).toMatchObject({ email: "buyer@example.com", source: "CLIENT", props: { plan: "pro" } });
    await page.close();
  });

  it("an HMAC that does not verify: the identify is recorded without the email", async () => {
    const page = await openPage("/forged");
    expect(await identifyOn("/forged")).toMatchObject({ email: null });
    expect(await app.db.prisma.trackingEvent.count({ where: { email: "ceo@victim.test" } })).toBe(0);
    await page.close();
  });

  it("a malformed HMAC is left out by the snippet, so the batch (its pageview) still lands", async () => {
    const page = await openPage("/malformed");
    expect(await identifyOn("/malformed")).toMatchObject({ email: null });
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
