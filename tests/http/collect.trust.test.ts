import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardClient } from "../../client/trpc-client.ts";
import { runAdmin } from "../../server/cli/run-admin.ts";
import { postCollect, type TCollectEvent } from "../support/collect.ts";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

/** The attacks of issue 19 on the public door (rows 1 and 2), and the ceiling's admin controls. */

let app: TTestApp;
let seed: TSeededWorkspace;
let adminCookie: string;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ domain: "example.com", roles: ["MANAGER"] });
  adminCookie = await app.login(seed.owner.email, seed.owner.password);
}, 60_000);
afterAll(() => app?.close());

type TCollectAnswer = { received: boolean; outcome: string; accepted?: number; duplicates?: number };
type TRecorded = {
  events: { eventId: string; profileId: string; status: string; stage: string; stageCapped?: unknown }[];
};

/** Unauthenticated, as an attacker sends it: the site's Origin and a Chrome user agent, nothing else. */
async function collect(events: TCollectEvent[], siteId = seed.site.id) {
  const res = await postCollect(app.baseUrl, { origin: "https://example.com", body: { siteId, events } });
  expect(res.status).toBe(200);
  return jsonOf<TCollectAnswer>(res);
}

/** The backend's own door: a server event with the workspace member's session. */
async function serverEvents(events: Record<string, unknown>[], siteId = seed.site.id) {
  const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
    method: "POST",
    headers: { cookie: adminCookie, "content-type": "application/json" },
    body: JSON.stringify({ siteId, events }),
  });
  expect(res.status).toBe(200);
  return jsonOf<TRecorded>(res);
}

async function setCeilingOverRest(body: Record<string, unknown>, cookie = adminCookie) {
  const res = await fetch(`${app.baseUrl}/api/sites/browser-stage-ceiling`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ workspaceId: seed.workspace.id, siteId: seed.site.id, ...body }),
  });
  return { status: res.status, body: await jsonOf<Record<string, unknown> & Partial<TErrorBody>>(res) };
}

async function stageOfEmail(email: string) {
  const owner = await app.db.prisma.profileIdentifier.findFirstOrThrow({ where: { kind: "EMAIL", value: email } });
  const link = await app.db.prisma.profileFunnelLink.findFirstOrThrow({ where: { profileId: owner.profileId } });
  return { profileId: owner.profileId, stage: link.currentStage };
}

async function newSite() {
  return createTestSite(app.db.prisma, {
    workspaceId: seed.workspace.id,
    funnelId: seed.funnel.id,
    domain: "example.com",
  });
}

describe("row 1: the browser door cannot make anyone a customer", () => {
  it("a forged subscription_active is recorded as sent, but the email's profile stops at TRIAL", async () => {
    const email = `ceo-${uid()}@victim.test`;
    expect(await collect([{ type: "subscription_active", visitorId: `v_${uid()}`, email }])).toMatchObject({
      accepted: 1,
    });
    expect((await stageOfEmail(email)).stage).toBe("TRIAL");
    const stored = await app.db.prisma.trackingEvent.findFirstOrThrow({ where: { email } });
    expect([stored.type, stored.source]).toEqual(["subscription_active", "CLIENT"]);
    const timeline = await app.db.prisma.profileEvent.findMany({ where: { trackingEventId: stored.id } });
    expect(timeline.map((t) => t.type)).toEqual(["subscription_active"]);

    // The backend's real subscription still makes the same profile a customer.
    const real = await serverEvents([{ type: "subscription_active", email }]);
    expect(real.events[0]).toMatchObject({ status: "recorded", stage: "CUSTOMER" });
    expect(real.events[0]!.stageCapped).toBeUndefined();
    expect(await stageOfEmail(email)).toEqual({ profileId: real.events[0]!.profileId, stage: "CUSTOMER" });
  });

  it("at a site's lower ceiling, trial_start from the page gives CONSIDERATION; a session's gives TRIAL", async () => {
    const site = await newSite();
    const set = await setCeilingOverRest({ siteId: site.id, ceiling: "CONSIDERATION" });
    expect(set).toEqual({ status: 200, body: { siteId: site.id, browserStageCeiling: "CONSIDERATION" } });
    const email = `t-${uid()}@victim.test`;
    await collect([{ type: "trial_start", visitorId: `v_${uid()}`, email }], site.id);
    expect((await stageOfEmail(email)).stage).toBe("CONSIDERATION");
    const trusted = await serverEvents([{ type: "trial_start", email }], site.id);
    expect(trusted.events[0]).toMatchObject({ stage: "TRIAL" });
  });
});

describe("row 2: messageIds of the public door live apart from the backends'", () => {
  it("a planted id does not swallow the backend's purchase, which lands on the email's profile", async () => {
    const messageId = `order-${uid()}`;
    const email = `buyer-${uid()}@example.com`;
    expect(await collect([{ type: "pageview", visitorId: `v_${uid()}`, messageId }])).toMatchObject({
      accepted: 1,
      duplicates: 0,
    });
    const purchase = await serverEvents([{ type: "purchase", email, messageId }]);
    expect(purchase.events[0]!.status).toBe("recorded");
    expect(purchase.events[0]!.profileId).toBe((await stageOfEmail(email)).profileId);
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: purchase.events[0]!.eventId } });
    expect([stored.type, stored.messageId, stored.source]).toEqual(["purchase", messageId, "SERVER"]);
    // The backend's retry is still a duplicate of its own event.
    const retry = await serverEvents([{ type: "purchase", email, messageId }]);
    expect(retry.events[0]).toMatchObject({ status: "duplicate", eventId: purchase.events[0]!.eventId });
  });

  it("collect reveals nothing about an id the backends used, and still dedupes the browser's own retry", async () => {
    const messageId = `order-${uid()}`;
    await serverEvents([{ type: "purchase", email: `b-${uid()}@example.com`, messageId }]);
    const probe = { type: "pageview", visitorId: `v_${uid()}`, messageId };
    expect(await collect([probe])).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await collect([probe])).toMatchObject({ accepted: 0, duplicates: 1 });
  });
});

describe("sites.setBrowserStageCeiling", () => {
  it("tRPC: an ADMIN sets it, and the next browser batch is capped there", async () => {
    const site = await newSite();
    const client = createDashboardClient({ baseUrl: app.baseUrl, cookie: adminCookie });
    const set = await client.sites.setBrowserStageCeiling.mutate({
      workspaceId: seed.workspace.id,
      siteId: site.id,
      ceiling: "AWARENESS",
    });
    expect(set).toEqual({ siteId: site.id, browserStageCeiling: "AWARENESS" });
    const email = `a-${uid()}@example.com`;
    await collect([{ type: "pageview", visitorId: `v_${uid()}`, email }], site.id);
    expect((await stageOfEmail(email)).stage).toBe("AWARENESS");
  });

  it("refuses CUSTOMER and unknown stages naming `ceiling`, a MANAGER, and another workspace's site", async () => {
    for (const ceiling of ["CUSTOMER", "trial", undefined]) {
      const res = await setCeilingOverRest({ ceiling });
      expect(res.status, String(ceiling)).toBe(400);
      expect(res.body.data?.issues.map((i) => i.path)).toEqual([["ceiling"]]);
    }
    const manager = seed.members.MANAGER!;
    const asManager = await setCeilingOverRest(
      { ceiling: "AWARENESS" },
      await app.login(manager.email, manager.password),
    );
    expect(asManager.status).toBe(403);
    const other = await app.seedWorkspace();
    const foreign = await setCeilingOverRest({ siteId: other.site.id, ceiling: "AWARENESS" });
    expect(foreign.status).toBe(403);
    expect(foreign.body.data?.issues.map((i) => i.path)).toEqual([["siteId"]]);
    const sites = await app.db.prisma.trackingSite.findMany({ where: { id: { in: [seed.site.id, other.site.id] } } });
    expect(sites.map((s) => s.browserStageCeiling)).toEqual(["TRIAL", "TRIAL"]);
  });

  it("admin CLI: site browser-stage-ceiling sets it, and refuses CUSTOMER naming --stage", async () => {
    const site = await newSite();
    const run = async (argv: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = await runAdmin(argv, {
        db: app.db,
        stdout: { write: (s: string) => void (stdout += s) },
        stderr: { write: (s: string) => void (stderr += s) },
      });
      return { code, stdout: stdout.trim(), stderr };
    };
    const ok = await run(["site", "browser-stage-ceiling", "--site", site.id, "--stage", "consideration", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ siteId: site.id, browserStageCeiling: "CONSIDERATION" });
    const refused = await run(["site", "browser-stage-ceiling", "--site", site.id, "--stage", "CUSTOMER"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--stage.*never CUSTOMER/);
    const unknown = await run(["site", "browser-stage-ceiling", "--site", `site_${uid()}`, "--stage", "TRIAL"]);
    expect(unknown.code).toBe(1);
    const stored = await app.db.prisma.trackingSite.findUniqueOrThrow({ where: { id: site.id } });
    expect(stored.browserStageCeiling).toBe("CONSIDERATION");
  });
});
