import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { pageview, postCollect } from "../support/collect.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp({ config: { COLLECT_IP_RATE_LIMIT: "5", COLLECT_VISITOR_RATE_LIMIT: "2" } });
  seed = await app.seedWorkspace({ domain: "example.com" });
}, 60_000);
afterAll(() => app?.close());

const send = (visitorId: string) =>
  postCollect(app.baseUrl, { body: { siteId: seed.site.id, events: [pageview({ visitorId })] } });

it("defaults: 600 batches a minute per IP, 120 per visitor", () => {
  const { collect } = loadConfig({});
  expect(collect).toEqual({
    perIp: { points: 600, durationSeconds: 60 },
    perVisitor: { points: 120, durationSeconds: 60 },
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
