import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { BROWSER_UA } from "../support/collect.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startHostPages, type THostPages } from "../support/host-pages.ts";
import { findInvariantViolations } from "../support/ingest-invariants.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { createWire, okBody, type TWire } from "../support/wire.ts";

let app: TTestApp;
let wire: TWire;
let seed: TSeededWorkspace;
let cookie: string;
let browser: TBrowser;
let pages: THostPages;
const pageErrors: string[] = [];

const GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });";
const NO_COOKIES_NO_BEACON =
  "Object.defineProperty(Document.prototype, 'cookie', {" +
  " get() { throw new DOMException('cookies are disabled', 'SecurityError'); }," +
  " set() { throw new DOMException('cookies are disabled', 'SecurityError'); } });" +
  "delete Navigator.prototype.sendBeacon;";

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  wire = createWire(app);
  seed = await app.seedWorkspace({ domain: "shop.localhost" });
  cookie = await app.login(seed.owner.email, seed.owner.password);
  pages = await startHostPages(`${app.baseUrl}/fz.js`, seed.site.id, {
    "/": { before: "funnelfizz('identify', 'Buyer@Example.com', { plan: 'pro' }); funnelfizz('event', 'queued');" },
    "/dnt": { tagAttributes: "data-respect-dnt" },
  });
  browser = await launchBrowser({ userAgent: BROWSER_UA });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await app?.close();
});

async function openPage(url: string, initScript?: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${url}: ${err.message}`));
  if (initScript) await page.addInitScript(initScript);
  await page.goto(url);
  return page;
}

const eventsOf = (where: { visitorId?: string; path?: string }) =>
  app.db.prisma.trackingEvent.findMany({
    where: { siteId: seed.site.id, ...where },
    orderBy: [{ occurredAt: "asc" }, { id: "asc" }],
  });
const typesOf = async (where: { visitorId?: string; path?: string }) => (await eventsOf(where)).map((e) => e.type);
const countSiteEvents = () => app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id } });

describe("the snippet in Chromium, on a page of the site's domain", () => {
  let page: Page;
  let visitorId: string;

  beforeAll(async () => {
    page = await openPage(pages.url("shop.localhost", "/?utm_source=newsletter&utm_medium=email"));
  });

  it("sets the first-party _fn_vid cookie for a year on the page's own host", async () => {
    await expect.poll(async () => (await browser.context.cookies(pages.url("shop.localhost"))).length).toBe(1);
    const [vid] = await browser.context.cookies(pages.url("shop.localhost"));
    expect(vid).toMatchObject({ name: "_fn_vid", domain: "shop.localhost", path: "/", sameSite: "Lax" });
    expect(vid!.value).toMatch(/^v_[0-9a-f]{32}$/);
    const days = (vid!.expires * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    visitorId = vid!.value;
  });

  it("sends the pageview and the calls queued before it loaded, as CLIENT events", async () => {
    await expect.poll(() => typesOf({ visitorId }), { timeout: 10_000 }).toHaveLength(3);
    const events = await eventsOf({ visitorId });
    expect(events.map((e) => e.type).sort()).toEqual(["identify", "pageview", "queued"]);
    const view = events.find((e) => e.type === "pageview")!;
    expect(view).toMatchObject({
      source: "CLIENT",
      path: "/?utm_source=newsletter&utm_medium=email",
      utmSource: "newsletter",
      channel: "email",
    });
    expect(events.find((e) => e.type === "identify")).toMatchObject({ email: "buyer@example.com" });
    expect(new Set(events.map((e) => e.messageId)).size).toBe(3);
  });

  it("sends a pageview on a History API navigation, with the previous page as referrer", async () => {
    await page.evaluate('history.pushState({}, "", "/pricing?plan=pro")');
    await expect.poll(() => eventsOf({ visitorId, path: "/pricing?plan=pro" }), { timeout: 10_000 }).toHaveLength(1);
    const [view] = await eventsOf({ visitorId, path: "/pricing?plan=pro" });
    expect(view).toMatchObject({
      type: "pageview",
      referrer: pages.url("shop.localhost", "/?utm_source=newsletter&utm_medium=email"),
    });
  });

  it("flushes with sendBeacon when the page is hidden", async () => {
    // Counts sendBeacon calls, records an event and hides the page before the flush timer fires.
    const beacons = await page.evaluate<number>(`(() => {
      let sent = 0;
      const original = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url, data) => { sent += 1; return original(url, data); };
      funnelfizz("event", "add_to_cart", { sku: "A1" });
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
      return sent;
    })()`);
    expect(beacons).toBe(1);
    await expect.poll(() => typesOf({ visitorId }), { timeout: 5_000 }).toContain("add_to_cart");
    const [cart] = (await eventsOf({ visitorId })).filter((e) => e.type === "add_to_cart");
    expect(cart!.props).toEqual({ sku: "A1" });
  });

  it("lands a server event sent with the _fn_vid value on the same profile and timeline", async () => {
    const [browserEvent] = await eventsOf({ visitorId });
    const recorded = okBody(
      await wire.record(
        "rest",
        { workspaceId: seed.workspace.id, siteId: seed.site.id, events: [{ type: "trial_signup", visitorId }] },
        { cookie },
      ),
    );
    expect(recorded.events[0]!.profileId).toBe(browserEvent!.profileId);
    const found = okBody(await wire.lookup("rest", { workspaceId: seed.workspace.id, visitorId }, { cookie }));
    expect(found.profile?.id).toBe(browserEvent!.profileId);
    const { profile, timeline } = okBody(
      await wire.getProfile("rest", { workspaceId: seed.workspace.id, profileId: browserEvent!.profileId }, { cookie }),
    );
    expect(profile.funnelLinks[0]!.currentStage).toBe("TRIAL");
    expect(profile.identifiers).toEqual(
      expect.arrayContaining([
        { kind: "VISITOR", value: visitorId },
        { kind: "EMAIL", value: "buyer@example.com" },
      ]),
    );
    expect([profile.eventCount, profile.serverEventCount, profile.pageviewCount]).toEqual([6, 1, 2]);
    // Newest first: the server event after everything the browser sent.
    const types = timeline.items.map((i) => i.type);
    expect(types[0]).toBe("trial_signup");
    expect(types.slice(1, 3)).toEqual(["add_to_cart", "pageview"]);
    expect(types.slice(3).sort()).toEqual(["identify", "pageview", "queued"]);
    expect(await findInvariantViolations(app.db.prisma, seed.workspace.id)).toEqual([]);
  });
});

describe("the pinned snippet with Subresource Integrity", () => {
  it("loads from /fz.<version>.js with its integrity hash and records; a wrong hash is blocked", async () => {
    const latest = await fetch(`${app.baseUrl}/fz.js`);
    const version = latest.headers.get("x-snippet-version")!;
    const integrity = latest.headers.get("x-snippet-integrity")!;
    const wrong = `sha384-${Buffer.alloc(48).toString("base64")}`;
    const pinned = await startHostPages(`${app.baseUrl}/fz.${version}.js`, seed.site.id, {
      "/sri": { tagAttributes: `integrity="${integrity}" crossorigin="anonymous"` },
      "/bad-sri": { tagAttributes: `integrity="${wrong}" crossorigin="anonymous"` },
    });
    try {
      const blocked: string[] = [];
      const bad = await browser.context.newPage();
      bad.on("console", (m) => void (/integrity/i.test(m.text()) && blocked.push(m.text())));
      await bad.goto(pinned.url("sri.shop.localhost", "/bad-sri"));
      await openPage(pinned.url("sri.shop.localhost", "/sri"));
      await expect.poll(() => typesOf({ path: "/sri" }), { timeout: 10_000 }).toEqual(["pageview"]);
      expect(blocked.length).toBeGreaterThan(0);
      expect(await typesOf({ path: "/bad-sri" })).toEqual([]);
    } finally {
      await pinned.close();
    }
  });
});

describe("the snippet where it must not record, or cannot work normally", () => {
  it("is refused on a page of another domain: the browser gets no answer to read and nothing is written", async () => {
    const before = await countSiteEvents();
    const page = await browser.context.newPage();
    // The 403 carries no CORS header, so Chromium reports the request as failed (a CORS error).
    const failed = page.waitForEvent("requestfailed", (r) => r.url().includes("/api/collect"));
    await page.goto(pages.url("evil.localhost"));
    expect((await failed).failure()?.errorText).toMatch(/ERR_FAILED/);
    await page.close();
    const metrics = await app.metricsText();
    expect(metrics).toMatch(/collect_requests_total\{outcome="origin_refused"\} 1\b/);
    expect(await countSiteEvents()).toBe(before);
  });

  it("sends nothing and sets no cookie under Global Privacy Control when the tag says data-respect-dnt", async () => {
    const collects: string[] = [];
    browser.context.on("request", (r) => void (r.url().includes("/api/collect") && collects.push(r.url())));
    const url = pages.url("dnt.shop.localhost", "/dnt");
    const page = await openPage(url, GPC_ON);
    await page.evaluate('funnelfizz("event", "should_not_send")');
    await page.waitForTimeout(1_500);
    expect(collects).toEqual([]);
    expect(await browser.context.cookies(url)).toEqual([]);
    expect(await typesOf({ path: "/dnt" })).toEqual([]);
  });

  it("throws nothing into a page without cookies or sendBeacon, and still delivers", async () => {
    const url = pages.url("hostile.shop.localhost", "/hostile");
    const page = await openPage(url, NO_COOKIES_NO_BEACON);
    await page.evaluate(`(() => {
      const circular = {};
      circular.self = circular;
      funnelfizz("event", "bad name!");
      funnelfizz("identify", "not-an-email");
      funnelfizz("event", "circular", circular);
      funnelfizz("event", "kept");
      dispatchEvent(new Event("pagehide"));
    })()`);
    await expect.poll(() => typesOf({ path: "/hostile" }), { timeout: 10_000 }).toEqual(["pageview", "kept"]);
    const [view] = await eventsOf({ path: "/hostile" });
    expect(view!.visitorId).toMatch(/^v_[0-9a-f]{32}$/);
    expect(pageErrors).toEqual([]);
  });
});
