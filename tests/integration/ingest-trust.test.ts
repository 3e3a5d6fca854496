import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSqlClient, type TDatabase } from "../../server/db/database.ts";
import type { TActor } from "../../server/tracking/ingest/actor.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import { BROWSER_STAGE_CEILINGS, type TBrowserStageCeiling } from "../../server/tracking/ingest/trust.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { STAGE_RULES, stageRank, type TFunnelStage } from "../../server/tracking/stages.ts";
import { setBrowserStageCeiling } from "../../server/workspaces/workspaces.repo.ts";
import { createTestSite, seedWorkspace, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { createTestDatabase } from "../support/test-database.ts";

let db: TDatabase;
let ws: TSeededWorkspace;
beforeAll(async () => {
  db = await createTestDatabase();
  ws = await seedWorkspace(db.prisma);
}, 60_000);
afterAll(async () => {
  await db?.close();
});

const actors = (): TActor[] => [
  { kind: "session", userId: ws.owner.id },
  { kind: "apiKey", keyId: "key_trust" },
  { kind: "stripe", eventId: "evt_trust" },
  { kind: "browser", siteId: ws.site.id },
];

type TEvent = { type: string; visitorId?: string; email?: string; messageId?: string };

function record(actor: TActor, events: TEvent[], siteId = ws.site.id) {
  const body = ZRecordServerEventsBody.parse({ siteId, events });
  return ingestEvents(db, { workspaceId: ws.workspace.id, actor, body });
}

async function siteWithCeiling(ceiling: TBrowserStageCeiling | undefined) {
  const site = await createTestSite(db.prisma, { workspaceId: ws.workspace.id, funnelId: ws.funnel.id });
  if (ceiling) expect(await setBrowserStageCeiling(db.prisma, { siteId: site.id, ceiling })).toBe(true);
  return site;
}

const TYPES = [...STAGE_RULES.map((r) => r.type), "invited_teammate"];

describe("stages by door, through the use case and the database", () => {
  // Every door × every rule (and an unknown type) × the default and each settable ceiling.
  it.each([undefined, ...BROWSER_STAGE_CEILINGS])("site ceiling %s", async (ceiling) => {
    const site = await siteWithCeiling(ceiling);
    const effective = ceiling ?? "TRIAL";
    for (const actor of actors()) {
      const events = TYPES.map((type) => ({ type, visitorId: `v_${uid()}` }));
      const result = await record(actor, events, site.id);
      const stored = await db.prisma.trackingEvent.findMany({
        where: { id: { in: result.events.map((e) => e.eventId) } },
        select: { id: true, type: true, profileId: true },
      });
      const links = await db.prisma.profileFunnelLink.findMany({
        where: { profileId: { in: result.events.map((e) => e.profileId) } },
      });
      for (const [i, type] of TYPES.entries()) {
        const rule = STAGE_RULES.find((r) => r.type === type)?.stage ?? "AWARENESS";
        const capped = actor.kind === "browser" && stageRank(rule) > stageRank(effective);
        const stage: TFunnelStage = capped ? effective : rule;
        const answered = result.events[i]!;
        const where = `${actor.kind} ${type}`;
        expect(answered.stage, where).toBe(stage);
        expect(answered.stageCapped, where).toEqual(capped ? { requested: rule, ceiling: effective } : undefined);
        // Recorded as sent, whatever its stage effect.
        expect(stored.find((e) => e.id === answered.eventId)?.type, where).toBe(type);
        expect(links.find((l) => l.profileId === answered.profileId)?.currentStage, where).toBe(stage);
      }
    }
  });

  it("a trusted door still advances a profile the browser door capped", async () => {
    const email = `ceo-${uid()}@victim.test`;
    const [session, , , browser] = actors();
    const forged = await record(browser!, [{ type: "subscription_active", visitorId: `v_${uid()}`, email }]);
    expect(forged.events[0]).toMatchObject({
      stage: "TRIAL",
      stageCapped: { requested: "CUSTOMER", ceiling: "TRIAL" },
    });
    const real = await record(session!, [{ type: "subscription_active", email }]);
    expect(real.events[0]).toMatchObject({ profileId: forged.events[0]!.profileId, stage: "CUSTOMER" });
    expect(real.events[0]!.stageCapped).toBeUndefined();
  });

  it("the database refuses a CUSTOMER ceiling, whoever writes it", async () => {
    // Raw pg: in embedded mode a failed Prisma statement costs the ingest its prepared statements.
    await expect(
      withSqlClient(db, (c) =>
        c.query("UPDATE tracking_sites SET browser_stage_ceiling = 'CUSTOMER' WHERE id = $1", [ws.site.id]),
      ),
    ).rejects.toThrow(/tracking_sites_browser_stage_ceiling_check/);
    const site = await db.prisma.trackingSite.findUniqueOrThrow({ where: { id: ws.site.id } });
    expect(site.browserStageCeiling).toBe("TRIAL");
  });
});

describe("messageId namespaces", () => {
  const storedUnder = (messageId: string) =>
    db.prisma.trackingEvent.findMany({ where: { messageId }, select: { id: true, messageScope: true, source: true } });

  it("a browser's id never shadows a trusted door's event, and trusted doors share theirs", async () => {
    const [session, apiKey, stripe, browser] = actors();
    const messageId = `order-${uid()}`;
    const email = `buyer-${uid()}@example.com`;
    const planted = await record(browser!, [{ type: "pageview", visitorId: `v_${uid()}`, messageId }]);
    expect(planted.events[0]!.status).toBe("recorded");
    const purchase = await record(session!, [{ type: "purchase", email, messageId }]);
    expect(purchase).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(purchase.events[0]!.profileId).not.toBe(planted.events[0]!.profileId);
    // Among trusted doors a messageId is one event, whichever door retries it.
    for (const door of [session!, apiKey!, stripe!]) {
      const retried = await record(door, [{ type: "purchase", email, messageId }]);
      expect(retried.events[0]).toMatchObject({ status: "duplicate", eventId: purchase.events[0]!.eventId });
    }
    // The browser's own retry is still its own duplicate, and it does not see the trusted event.
    const browserRetry = await record(browser!, [{ type: "pageview", visitorId: `v_${uid()}`, messageId }]);
    expect(browserRetry.events[0]).toMatchObject({ status: "duplicate", eventId: planted.events[0]!.eventId });
    expect((await storedUnder(messageId)).map((e) => [e.messageScope, e.source]).sort()).toEqual([
      ["PUBLIC", "CLIENT"],
      ["TRUSTED", "SERVER"],
    ]);
  });

  it("the two doors racing on one id, each retrying it: each door's event is stored exactly once", async () => {
    const [session, , , browser] = actors();
    const rounds = Array.from({ length: 20 }, () => `race-${uid()}`);
    const outcomes = await Promise.all(
      rounds.flatMap((messageId) => {
        const email = `r-${uid()}@example.com`;
        const visitorId = `v_${uid()}`;
        return [
          record(browser!, [{ type: "pageview", visitorId, messageId }]),
          record(session!, [{ type: "purchase", email, messageId }]),
          record(browser!, [{ type: "pageview", visitorId, messageId }]),
          record(session!, [{ type: "purchase", email, messageId }]),
        ];
      }),
    );
    expect(outcomes.map((o) => o.accepted + o.duplicates)).toEqual(outcomes.map(() => 1));
    for (const [r, messageId] of rounds.entries()) {
      const stored = await storedUnder(messageId);
      expect(stored.map((e) => e.messageScope).sort(), messageId).toEqual(["PUBLIC", "TRUSTED"]);
      const [b1, s1, b2, s2] = outcomes.slice(r * 4, r * 4 + 4).map((o) => o.events[0]!);
      expect([b1!.status, b2!.status].sort()).toEqual(["duplicate", "recorded"]);
      expect([s1!.status, s2!.status].sort()).toEqual(["duplicate", "recorded"]);
      expect(b1!.eventId).toBe(b2!.eventId);
      expect(s1!.eventId).toBe(s2!.eventId);
      expect(new Set(stored.map((e) => e.id))).toEqual(new Set([b1!.eventId, s1!.eventId]));
    }
  });
});
