import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { countIngestRows, NOTHING_WRITTEN } from "../support/ingest-state.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { pageview, postCollect, preflightCollect, type TCollectEvent } from "../support/collect.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ domain: "example.com" });
}, 60_000);
afterAll(() => app?.close());

type TCollectAnswer = { received: boolean; outcome: string; reason?: string; accepted?: number; duplicates?: number };

const collect = (events: TCollectEvent[], over: { origin?: string | null; userAgent?: string } = {}) =>
  postCollect(app.baseUrl, { body: { siteId: seed.site.id, events }, ...over });
const rowsOf = (workspaceId = seed.workspace.id) => countIngestRows(app.db.prisma, workspaceId);
const eventsOfVisitor = (visitorId: string) =>
  app.db.prisma.trackingEvent.findMany({
    where: { visitorId },
    orderBy: [{ occurredAt: "asc" }, { receivedAt: "asc" }, { id: "asc" }],
  });

describe("CORS: the site's domain and its subdomains only", () => {
  it.each(["https://example.com", "https://shop.example.com", "http://example.com:8080", "https://a.b.example.com"])(
    "records a batch from %s and lets the page read the answer",
    async (origin) => {
      const event = pageview();
      const res = await collect([event], { origin });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("vary")).toMatch(/origin/i);
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      expect(await jsonOf<TCollectAnswer>(res)).toEqual({
        received: true,
        outcome: "recorded",
        accepted: 1,
        duplicates: 0,
      });
      expect(await eventsOfVisitor(event.visitorId!)).toHaveLength(1);
    },
  );

  it.each([
    ["a lookalike domain", "https://evilexample.com"],
    ["the domain under another one", "https://example.com.evil.test"],
    ["another site", "https://other.test"],
    ["an opaque origin", "null"],
    ["no Origin at all", null],
  ])("refuses %s with 403, no CORS header and nothing written", async (_case, origin) => {
    const other = await app.seedWorkspace({ domain: "example.com" });
    const res = await postCollect(app.baseUrl, { origin, body: { siteId: other.site.id, events: [pageview()] } });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const body = await jsonOf<TErrorBody>(res);
    expect(body.data.reason).toBe("CROSS_SITE_REQUEST");
    expect(body.data.issues).toEqual([expect.objectContaining({ path: ["origin"], code: "origin_not_allowed" })]);
    expect(await rowsOf(other.workspace.id)).toEqual(NOTHING_WRITTEN);
  });

  it("answers the preflight of an allowed origin, and refuses another's without CORS headers", async () => {
    const allowed = await preflightCollect(app.baseUrl, "https://shop.example.com", seed.site.id);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
    expect(allowed.headers.get("access-control-allow-methods")).toBe("POST");
    expect(allowed.headers.get("access-control-allow-headers")).toMatch(/content-type/i);
    expect(Number(allowed.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    for (const origin of ["https://evilexample.com", null]) {
      const refused = await preflightCollect(app.baseUrl, origin, seed.site.id);
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      expect(refused.headers.get("access-control-allow-methods")).toBeNull();
    }
  });
});

describe("bodies", () => {
  it.each(["text/plain;charset=UTF-8", "text/plain", "application/json", "application/json; charset=utf-8"])(
    "reads a %s batch",
    async (contentType) => {
      const event = pageview();
      const res = await postCollect(app.baseUrl, { contentType, body: { siteId: seed.site.id, events: [event] } });
      expect(res.status).toBe(200);
      expect(await eventsOfVisitor(event.visitorId!)).toHaveLength(1);
    },
  );

  it("refuses other media types, charsets, bad JSON and __proto__ keys, naming what is wrong", async () => {
    const body = { siteId: seed.site.id, events: [pageview()] };
    const cases: [Parameters<typeof postCollect>[1], number, string, unknown[] | undefined][] = [
      [{ contentType: "application/x-www-form-urlencoded", body }, 415, "UNSUPPORTED_MEDIA_TYPE", ["content-type"]],
      [{ contentType: "text/plain; charset=latin1", body }, 415, "UNSUPPORTED_MEDIA_TYPE", ["content-type"]],
      [{ site: seed.site.id, body: '{"events": [' }, 400, "MALFORMED_JSON", undefined],
      [
        { site: seed.site.id, body: `{"events":[{"type":"x","visitorId":"v_1","props":{"__proto__":{}}}]}` },
        400,
        "VALIDATION_FAILED",
        ["events", 0, "props"],
      ],
    ];
    for (const [req, status, reason, path] of cases) {
      const res = await postCollect(app.baseUrl, req);
      const answer = await jsonOf<TErrorBody>(res);
      expect({ status: res.status, reason: answer.data.reason }).toEqual({ status, reason });
      if (path) expect(answer.data.issues[0]?.path).toEqual(path);
    }
  });

  it("takes the site from the site query parameter, and refuses a body that names another", async () => {
    const event = pageview();
    const ok = await postCollect(app.baseUrl, { site: seed.site.id, body: { events: [event] } });
    expect(ok.status).toBe(200);
    const mismatch = await postCollect(app.baseUrl, {
      site: seed.site.id,
      body: { siteId: "site_other", events: [pageview()] },
    });
    expect(mismatch.status).toBe(400);
    expect((await jsonOf<TErrorBody>(mismatch)).data.issues).toEqual([
      expect.objectContaining({ path: ["siteId"], code: "mismatch" }),
    ]);
  });
});

describe("validation: the server batch's limits, errors naming the field", () => {
  const big = { blob: "x".repeat(8200) };
  it.each([
    ["a bad event name", [pageview({ type: "add to cart!" })], ["events", 0, "type"]],
    ["a userId (only backends may send one)", [pageview({ userId: "u_1" })], ["events", 0, "userId"]],
    ["props over 8 KB", [pageview({ props: big })], ["events", 0, "props"]],
    ["51 events", Array.from({ length: 51 }, () => pageview()), ["events"]],
    ["no identity", [{ type: "pageview", path: "/" }], ["events", 0]],
    ["a placeholder visitor id", [pageview({ visitorId: "undefined" })], ["events", 0, "visitorId"]],
  ])("refuses %s with 400 and nothing written", async (_case, events, path) => {
    const before = await rowsOf();
    const res = await collect(events);
    expect(res.status).toBe(400);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
    const body = await jsonOf<TErrorBody>(res);
    expect(body.data.reason).toBe("VALIDATION_FAILED");
    expect(body.data.issues.map((i) => i.path)).toContainEqual(path);
    expect(await rowsOf()).toEqual(before);
  });

  it("answers 400 naming siteId when no site is given, 404 when it names no site", async () => {
    const missing = await postCollect(app.baseUrl, { body: { events: [pageview()] } });
    expect(missing.status).toBe(400);
    expect((await jsonOf<TErrorBody>(missing)).data.issues[0]).toMatchObject({ path: ["siteId"], code: "required" });
    const unknown = await postCollect(app.baseUrl, { body: { siteId: `site_${uid()}`, events: [pageview()] } });
    expect(unknown.status).toBe(404);
    const body = await jsonOf<TErrorBody>(unknown);
    expect(body.data.reason).toBe("NOT_FOUND");
    expect(body.data.issues[0]).toMatchObject({ path: ["siteId"], code: "unknown_site" });
  });

  it.each([
    ["in the body", { body: { siteId: "site_\u0000x", events: [pageview()] } }],
    ["in the query", { site: "site_\u0000x", body: { events: [pageview()] } }],
  ])("answers 400 naming siteId for a NUL %s, before any database lookup", async (_where, request) => {
    const res = await postCollect(app.baseUrl, request);
    expect(res.status).toBe(400);
    expect((await jsonOf<TErrorBody>(res)).data.issues[0]).toMatchObject({ path: ["siteId"], code: "invalid_string" });
  });
});

describe("recording", () => {
  it("ignores a bot's batch with 202 and writes nothing", async () => {
    const botSeed = await app.seedWorkspace({ domain: "example.com" });
    const res = await postCollect(app.baseUrl, {
      userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      body: { siteId: botSeed.site.id, events: [pageview()] },
    });
    expect(res.status).toBe(202);
    expect(await jsonOf<TCollectAnswer>(res)).toEqual({ received: true, outcome: "ignored", reason: "bot" });
    expect(await rowsOf(botSeed.workspace.id)).toEqual(NOTHING_WRITTEN);
  });

  it("stores CLIENT events recorded by the site's snippet, counted apart from server events", async () => {
    const event = pageview({ path: "/pricing" });
    expect((await collect([event, pageview({ visitorId: event.visitorId, type: "add_to_cart" })])).status).toBe(200);
    const stored = await eventsOfVisitor(event.visitorId!);
    expect(stored.map((e) => [e.source, e.recordedBy, e.userId])).toEqual([
      ["CLIENT", `browser:${seed.site.id}`, null],
      ["CLIENT", `browser:${seed.site.id}`, null],
    ]);
    const profile = await app.db.prisma.profile.findUniqueOrThrow({ where: { id: stored[0]!.profileId } });
    expect([profile.eventCount, profile.pageviewCount, profile.serverEventCount]).toEqual([2, 1, 0]);
    const link = await app.db.prisma.profileFunnelLink.findFirstOrThrow({ where: { profileId: profile.id } });
    expect(link.currentStage).toBe("CONSIDERATION");
  });

  it.each([
    ["a search engine referrer", { referrer: "https://www.google.com/" }, "organic_search", {}],
    [
      "UTM tags in the page URL",
      { path: "/?utm_source=newsletter&utm_medium=email&utm_campaign=nov" },
      "email",
      { utmSource: "newsletter", utmMedium: "email", utmCampaign: "nov" },
    ],
    ["a click id in the page URL", { path: "/landing?gclid=abc123" }, "paid", {}],
    ["the site's own page as referrer", { referrer: "https://example.com/blog" }, "direct", {}],
  ])("decides the channel from %s", async (_case, over, channel, utm) => {
    const event = pageview(over);
    expect((await collect([event])).status).toBe(200);
    const [stored] = await eventsOfVisitor(event.visitorId!);
    expect(stored).toMatchObject({ channel, ...utm });
  });

  it("records a retried event once: same messageId, reported as a duplicate", async () => {
    const event = pageview();
    const first = await jsonOf<TCollectAnswer>(await collect([event]));
    const retry = await jsonOf<TCollectAnswer>(await collect([event]));
    expect([first.accepted, first.duplicates, retry.accepted, retry.duplicates]).toEqual([1, 0, 0, 1]);
    expect(await eventsOfVisitor(event.visitorId!)).toHaveLength(1);
  });

  it("keeps sites apart: a batch lands in its own site's workspace only", async () => {
    const other = await app.seedWorkspace({ domain: "other.test" });
    const before = await rowsOf();
    const event = pageview();
    const res = await postCollect(app.baseUrl, {
      origin: "https://www.other.test",
      body: { siteId: other.site.id, events: [event] },
    });
    expect(res.status).toBe(200);
    const [stored] = await eventsOfVisitor(event.visitorId!);
    expect([stored?.workspaceId, stored?.siteId]).toEqual([other.workspace.id, other.site.id]);
    expect(await rowsOf()).toEqual(before);
    // The other site's page cannot feed this one.
    const crossed = await postCollect(app.baseUrl, {
      origin: "https://www.other.test",
      body: { siteId: seed.site.id, events: [pageview()] },
    });
    expect(crossed.status).toBe(403);
  });
});
