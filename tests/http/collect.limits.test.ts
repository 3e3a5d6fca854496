import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { pageview, postCollect } from "../support/collect.ts";

const IDENTITY_LIMIT = 12;

let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp({
    config: {
      COLLECT_IP_RATE_LIMIT: "5",
      COLLECT_VISITOR_RATE_LIMIT: "2",
      COLLECT_IDENTITY_RATE_LIMIT: String(IDENTITY_LIMIT),
      // Tests below speak from addresses of their own through X-Forwarded-For.
      TRUST_PROXY: "loopback",
    },
  });
  seed = await app.seedWorkspace({ domain: "example.com" });
}, 60_000);
afterAll(() => app?.close());

const send = (visitorId: string) =>
  postCollect(app.baseUrl, { body: { siteId: seed.site.id, events: [pageview({ visitorId })] } });

it("defaults: 600 batches a minute per IP, 120 per visitor, 600 identities per site and IP", () => {
  const { collect } = loadConfig({});
  expect(collect).toEqual({
    perIp: { points: 600, durationSeconds: 60 },
    perVisitor: { points: 120, durationSeconds: 60 },
    identitiesPerIp: { points: 600, durationSeconds: 60 },
  });
});

it("limits batches per visitor, then per client IP, with Retry-After", async () => {
  const statuses = [];
  for (const visitor of ["v_limit_a", "v_limit_a", "v_limit_a", "v_limit_b", "v_limit_b", "v_limit_b"]) {
    const res = await send(visitor);
    const body = res.status === 200 ? undefined : await jsonOf<TErrorBody>(res);
    statuses.push([res.status, body?.message ?? "ok", res.headers.get("retry-after") !== null]);
  }
  expect(statuses).toEqual([
    [200, "ok", false],
    [200, "ok", false],
    [429, "Too many tracking requests", true],
    [200, "ok", false],
    [200, "ok", false],
    [429, "Too many tracking requests from this address", true],
  ]);
  const stored = await app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id } });
  expect(stored).toBe(4);
  const metrics = await app.metricsText();
  expect(metrics).toMatch(/collect_requests_total\{outcome="visitor_rate_limited"\} 1\b/);
  expect(metrics).toMatch(/collect_requests_total\{outcome="rate_limited"\} 1\b/);
});

/** A batch of `count` events, each a new profile: email-only events, or pageviews of new visitors. */
function newProfiles(count: number, kind: "email" | "visitor", tag: string) {
  return Array.from({ length: count }, (_, i) =>
    kind === "email"
      ? { type: "signup", messageId: `m_${tag}_${i}`, email: `p${i}.${tag}@example.com` }
      : pageview({ visitorId: `v_${tag}_${i}`, messageId: `m_${tag}_${i}` }),
  );
}

it.each(["email", "visitor"] as const)(
  `new profiles (%s) from one address: ${IDENTITY_LIMIT} per window, then 429 with Retry-After`,
  async (kind) => {
    const ip = kind === "email" ? "203.0.113.10" : "203.0.113.11";
    const flood = (batch: number) =>
      postCollect(app.baseUrl, {
        body: { siteId: seed.site.id, events: newProfiles(5, kind, `${kind}${batch}`) },
        headers: { "x-forwarded-for": ip },
      });
    const statuses = [];
    for (let batch = 0; batch < 3; batch++) statuses.push((await flood(batch)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await flood(3);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect((await jsonOf<TErrorBody>(refused)).message).toBe("Too many visitors and emails from this address");
    // Only the two accepted batches made profiles; another address still may.
    const made = await app.db.prisma.trackingEvent.findMany({
      where: { siteId: seed.site.id, messageId: { startsWith: `m_${kind}` } },
      select: { profileId: true },
    });
    expect(new Set(made.map((e) => e.profileId)).size).toBe(10);
    const other = await postCollect(app.baseUrl, {
      body: { siteId: seed.site.id, events: newProfiles(5, kind, `${kind}-other`) },
      headers: { "x-forwarded-for": "203.0.113.12" },
    });
    expect(other.status).toBe(200);
  },
);
