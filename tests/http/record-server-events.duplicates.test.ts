import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { countIngestRows, loadProfile } from "../support/ingest-state.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  okBody,
  TRANSPORTS,
  type TRecordInput,
  type TServerEventInput,
  type TTransport,
  type TWire,
  startWiredApp,
} from "../support/wire.ts";

let app: TTestApp;
let wire: TWire;

beforeAll(async () => ({ app, wire } = await startWiredApp()));
afterAll(() => app?.close());

const DAY = 24 * 60 * 60_000;

describe.each(TRANSPORTS)("duplicates by (siteId, messageId) over %s", (transport) => {
  let seed: TSeededWorkspace;
  let cookie: string;

  beforeAll(async () => {
    seed = await app.seedWorkspace();
    cookie = await app.login(seed.owner.email, seed.owner.password);
  });

  const record = async (events: TServerEventInput[], over: Partial<TRecordInput> = {}, via: TTransport = transport) =>
    okBody(
      await wire.record(via, { workspaceId: seed.workspace.id, siteId: seed.site.id, events, ...over }, { cookie }),
    );
  const rows = () => countIngestRows(app.db.prisma, seed.workspace.id);

  it("a messageId already recorded: duplicate with the original ids, no write, counters and stage kept", async () => {
    const visitorId = `v_${uid()}`;
    const messageId = `msg_${uid()}`;
    const original = await record([{ type: "signup", visitorId, messageId }]);
    const { eventId, profileId } = original.events[0]!;
    const rowsBefore = await rows();
    const profileBefore = await loadProfile(app.db.prisma, profileId);

    // The retry even says something else (a later type, a new email, a timestamp): the original stands.
    const again = await record([
      {
        type: "trial_start",
        visitorId,
        messageId,
        email: `new-${uid()}@example.com`,
        timestamp: new Date(Date.now() - DAY).toISOString(),
      },
    ]);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(again.events).toEqual([
      {
        index: 0,
        eventId,
        profileId,
        status: "duplicate",
        channel: original.events[0]!.channel,
        stage: "CONSIDERATION",
      },
    ]);
    expect(await rows()).toEqual(rowsBefore);
    expect(await loadProfile(app.db.prisma, profileId)).toEqual(profileBefore);
  });

  it("a batch mixing new and duplicate events records only the new ones, in request order", async () => {
    const visitorId = `v_${uid()}`;
    const [m1, m2, m3] = [`m1_${uid()}`, `m2_${uid()}`, `m3_${uid()}`];
    const first = await record([
      { type: "visit", visitorId, messageId: m1 },
      { type: "visit", visitorId, messageId: m2 },
    ]);
    const rowsBefore = await rows();

    const mixed = await record([
      { type: "visit", visitorId, messageId: m2 },
      { type: "visit", visitorId, messageId: m3 },
      { type: "visit", visitorId },
      { type: "visit", visitorId, messageId: m1 },
    ]);
    expect(mixed).toMatchObject({ accepted: 2, duplicates: 2 });
    expect(mixed.events.map((e) => [e.index, e.status])).toEqual([
      [0, "duplicate"],
      [1, "recorded"],
      [2, "recorded"],
      [3, "duplicate"],
    ]);
    expect(mixed.events[0]!.eventId).toBe(first.events[1]!.eventId);
    expect(mixed.events[3]!.eventId).toBe(first.events[0]!.eventId);
    expect(new Set(mixed.events.map((e) => e.profileId))).toEqual(new Set([first.events[0]!.profileId]));
    const after = await rows();
    expect(after.trackingEvents - rowsBefore.trackingEvents).toBe(2);
    expect(after.timeline - rowsBefore.timeline).toBe(2);
    expect(after.profiles).toBe(rowsBefore.profiles);
    const stored = await loadProfile(app.db.prisma, first.events[0]!.profileId);
    expect(stored.profile.eventCount).toBe(4);
    expect(stored.funnelLinks[0]!.eventCount).toBe(4);
  });

  it("an entirely repeated request changes nothing and answers the same ids", async () => {
    const events: TServerEventInput[] = Array.from({ length: 5 }, (_, i) => ({
      type: i === 4 ? "trial_signup" : "visit",
      visitorId: `v_${uid()}`,
      messageId: `m_${uid()}`,
    }));
    const first = await record(events);
    const rowsBefore = await rows();
    const again = await record(events);
    expect(again).toMatchObject({ accepted: 0, duplicates: 5 });
    expect(again.events.map((e) => [e.eventId, e.profileId, e.stage])).toEqual(
      first.events.map((e) => [e.eventId, e.profileId, e.stage]),
    );
    expect(await rows()).toEqual(rowsBefore);
  });

  it("REST and tRPC see the same event log: a retry over the other transport is a duplicate", async () => {
    const messageId = `m_${uid()}`;
    const otherTransport: TTransport = transport === "rest" ? "trpc" : "rest";
    const first = await record([{ type: "visit", visitorId: `v_${uid()}`, messageId }]);
    const again = await record([{ type: "visit", visitorId: `v_${uid()}`, messageId }], {}, otherTransport);
    expect(again.events[0]).toMatchObject({
      status: "duplicate",
      eventId: first.events[0]!.eventId,
      profileId: first.events[0]!.profileId,
    });
  });

  it("messageIds are unique per site: the same one on another site of the workspace is recorded", async () => {
    const site = await createTestSite(app.db.prisma, {
      workspaceId: seed.workspace.id,
      funnelId: seed.funnel.id,
      domain: "docs.example.com",
    });
    const messageId = `m_${uid()}`;
    const visitorId = `v_${uid()}`;
    const first = await record([{ type: "visit", visitorId, messageId }]);
    const elsewhere = await record([{ type: "visit", visitorId, messageId }], { siteId: site.id });
    expect(elsewhere.events[0]).toMatchObject({ status: "recorded", profileId: first.events[0]!.profileId });
    expect(elsewhere.events[0]!.eventId).not.toBe(first.events[0]!.eventId);
  });

  it("messageIds are compared after trimming, like every identifier", async () => {
    const messageId = `m_${uid()}`;
    const first = await record([{ type: "visit", visitorId: `v_${uid()}`, messageId }]);
    const again = await record([{ type: "visit", visitorId: `v_${uid()}`, messageId: `  ${messageId} ` }]);
    expect(again.events[0]).toMatchObject({ status: "duplicate", eventId: first.events[0]!.eventId });
  });
});
