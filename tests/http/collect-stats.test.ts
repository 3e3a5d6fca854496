import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardClient } from "../../client/trpc-client.ts";
import { createApp } from "../../server/app.ts";
import { createRuntime } from "../../server/runtime.ts";
import { createTestSite, type TSeededWorkspace } from "../support/fixtures.ts";
import { pageview, postCollect } from "../support/collect.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
let other: TSeededWorkspace;

beforeAll(async () => {
  app = await startTestApp({ config: { COLLECT_VISITOR_RATE_LIMIT: "1" } });
  seed = await app.seedWorkspace({ roles: ["VIEW_ONLY"], domain: "shop.example.com" });
  other = await app.seedWorkspace({ domain: "other.example.com" });
}, 60_000);
afterAll(() => app?.close());

const statsOverRest = (workspaceId: string, siteId: string, cookie?: string) =>
  fetch(`${app.baseUrl}/api/sites/collect-stats?workspaceId=${workspaceId}&siteId=${siteId}`, {
    headers: cookie ? { cookie } : {},
  });

/** Another app over the same database, as a second server process behind a load balancer would be. */
async function secondInstance() {
  const runtime = await createRuntime(app.config, { db: app.db, redis: null });
  const server = createApp(runtime).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.close();
    },
  };
}

const collect = (over: Parameters<typeof postCollect>[1]) => postCollect(app.baseUrl, over);

describe("sites.collectStats", () => {
  it("counts each refusal of the collect door by reason, and not what it recorded", async () => {
    const siteId = seed.site.id;
    const batch = (visitorId = `v_stats_${Math.random().toString(36).slice(2)}`) => ({
      siteId,
      events: [pageview({ visitorId })],
    });
    expect((await collect({ body: batch(), userAgent: "Mozilla/5.0 HeadlessChrome/131.0.0.0" })).status).toBe(202);
    expect((await collect({ body: batch(), userAgent: "curl/8.5.0" })).status).toBe(202);
    expect((await collect({ body: batch(), origin: "https://evil.example.net" })).status).toBe(403);
    expect((await collect({ body: { siteId, events: [{ type: "" }] } })).status).toBe(400);
    expect((await collect({ body: batch("v_stats_once") })).status).toBe(200);
    expect((await collect({ body: batch("v_stats_once") })).status).toBe(429);
    expect((await collect({ body: batch() })).status).toBe(200);

    const cookie = await app.login(seed.members.VIEW_ONLY!.email, seed.members.VIEW_ONLY!.password);
    const res = await statsOverRest(seed.workspace.id, siteId, cookie);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { siteId: string; reasons: { reason: string; lastHour: number }[] };
    expect(body.siteId).toBe(siteId);
    expect(body.reasons.map((r) => r.reason).sort()).toEqual(["bot", "invalid", "origin_refused", "rate_limited"]);
    expect(body.reasons).toContainEqual({ reason: "bot", lastHour: 2, last24Hours: 2 });
    expect(body.reasons).toContainEqual({ reason: "rate_limited", lastHour: 1, last24Hours: 1 });
    // Most frequent first.
    expect(body.reasons[0]!.reason).toBe("bot");

    // The other workspace's site has none of them.
    const otherCookie = await app.login(other.owner.email, other.owner.password);
    const client = createDashboardClient({ baseUrl: app.baseUrl, cookie: otherCookie });
    expect(await client.sites.collectStats.query({ workspaceId: other.workspace.id, siteId: other.site.id })).toEqual({
      siteId: other.site.id,
      reasons: [],
    });
  });

  it("counts in the database: a second instance (own runtime, limiters, metrics) adds to the same count", async () => {
    const second = await secondInstance();
    try {
      for (const base of [app.baseUrl, second.baseUrl]) {
        const res = await postCollect(base, {
          body: { siteId: other.site.id, events: [pageview()] },
          origin: "https://other.example.com",
          userAgent: "Mozilla/5.0 (X11; Linux x86_64) Playwright/1.49",
        });
        expect(res.status).toBe(202);
      }
    } finally {
      await second.close();
    }
    const client = createDashboardClient({
      baseUrl: app.baseUrl,
      cookie: await app.login(other.owner.email, other.owner.password),
    });
    const stats = await client.sites.collectStats.query({ workspaceId: other.workspace.id, siteId: other.site.id });
    expect(stats.reasons).toEqual([{ reason: "bot", lastHour: 2, last24Hours: 2 }]);
  });

  it("counts each email left out for want of an emailHmac on a site that requires verification", async () => {
    const site = await createTestSite(app.db.prisma, {
      workspaceId: seed.workspace.id,
      funnelId: seed.funnel.id,
      domain: "verified.example.com",
      name: "Verified",
    });
    const client = createDashboardClient({
      baseUrl: app.baseUrl,
      cookie: await app.login(seed.owner.email, seed.owner.password),
    });
    await client.sites.setIdentityVerification.mutate({
      workspaceId: seed.workspace.id,
      siteId: site.id,
      required: true,
    });
    const events = ["a@example.com", "b@example.com"].map((email) => pageview({ type: "identify", email }));
    const res = await postCollect(app.baseUrl, {
      origin: "https://verified.example.com",
      body: { siteId: site.id, events },
    });
    expect(await res.json()).toMatchObject({ outcome: "recorded", accepted: 2, unverifiedEmails: 2 });
    const stats = await client.sites.collectStats.query({ workspaceId: seed.workspace.id, siteId: site.id });
    expect(stats.reasons).toEqual([{ reason: "unverified_email", lastHour: 2, last24Hours: 2 }]);
  });

  it("tRPC: members of the workspace only; another workspace's site is a 403 naming siteId", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const client = createDashboardClient({ baseUrl: app.baseUrl, cookie });
    await expect(
      client.sites.collectStats.query({ workspaceId: seed.workspace.id, siteId: other.site.id }),
    ).rejects.toMatchObject({ data: { httpStatus: 403, reason: "SITE_NOT_IN_WORKSPACE" } });
    await expect(
      client.sites.collectStats.query({ workspaceId: other.workspace.id, siteId: other.site.id }),
    ).rejects.toMatchObject({ data: { httpStatus: 403, reason: "WORKSPACE_FORBIDDEN" } });
  });

  it("REST: 401 without a session, 403 for a non-member and another workspace's site, 400 naming siteId", async () => {
    expect((await statsOverRest(seed.workspace.id, seed.site.id)).status).toBe(401);

    const outsider = await statsOverRest(
      seed.workspace.id,
      seed.site.id,
      await app.login(seed.outsider.email, seed.outsider.password),
    );
    expect(outsider.status).toBe(403);
    expect((await jsonOf<TErrorBody>(outsider)).data.reason).toBe("WORKSPACE_FORBIDDEN");

    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const foreign = await statsOverRest(seed.workspace.id, other.site.id, cookie);
    expect(foreign.status).toBe(403);
    const body = await jsonOf<TErrorBody>(foreign);
    expect(body.data.reason).toBe("SITE_NOT_IN_WORKSPACE");
    expect(body.data.issues.map((i) => i.path)).toEqual([["siteId"]]);

    const missing = await fetch(`${app.baseUrl}/api/sites/collect-stats?workspaceId=${seed.workspace.id}`, {
      headers: { cookie },
    });
    expect(missing.status).toBe(400);
    expect((await jsonOf<TErrorBody>(missing)).data.issues.map((i) => i.path)).toContainEqual(["siteId"]);
  });
});
