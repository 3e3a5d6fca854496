import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../server/db/ids.ts";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { countIngestRows, loadProfile } from "../support/ingest-state.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  errorOf,
  okBody,
  TRANSPORTS,
  unchecked,
  type TRecordInput,
  type TServerEventInput,
  type TWire,
  startWiredApp,
} from "../support/wire.ts";
import { objectContaining, stringMatching } from "../support/matchers.ts";

let app: TTestApp;
let wire: TWire;

beforeAll(async () => ({ app, wire } = await startWiredApp()));
afterAll(() => app?.close());

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(TRANSPORTS)("recording over %s", (transport) => {
  let seed: TSeededWorkspace;
  let cookie: string;
  let managerCookie: string;

  beforeAll(async () => {
    seed = await app.seedWorkspace({ roles: ["MANAGER"] });
    [cookie, managerCookie] = await Promise.all([
      app.login(seed.owner.email, seed.owner.password),
      app.login(seed.members.MANAGER!.email, seed.members.MANAGER!.password),
    ]);
  });

  const send = (events: TServerEventInput[], over: Partial<TRecordInput> = {}, as = cookie) =>
    wire.record(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id, events, ...over }, { cookie: as });
  const record = async (events: TServerEventInput[], over: Partial<TRecordInput> = {}, as = cookie) =>
    okBody(await send(events, over, as));
  const trackingEvent = (id: string) => app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id } });
  const linkOf = (profileId: string, funnelId = seed.funnel.id) =>
    app.db.prisma.profileFunnelLink.findUniqueOrThrow({ where: { profileId_funnelId: { profileId, funnelId } } });

  it("the README's example request: one row in each table, answered with ids, channel and stage", async () => {
    const visitorId = `v_${uid()}`;
    const email = `user-${uid()}@example.com`;
    const before = Date.now();
    const res = await send([{ type: "signup", visitorId, email, path: "/api/signup", props: { plan: "pro" } }]);
    const after = Date.now();
    const body = okBody(res);
    expect(body).toEqual({
      requestId: res.headers.get("x-request-id"),
      accepted: 1,
      duplicates: 0,
      events: [
        {
          index: 0,
          eventId: stringMatching(/^evt_/),
          profileId: stringMatching(/^prf_/),
          status: "recorded",
          channel: "direct",
          stage: "CONSIDERATION",
        },
      ],
    });
    const { eventId, profileId } = body.events[0]!;

    const row = await trackingEvent(eventId);
    expect(row).toMatchObject({
      workspaceId: seed.workspace.id,
      siteId: seed.site.id,
      source: "SERVER",
      type: "signup",
      visitorId,
      email,
      userId: seed.owner.id,
      profileId,
      path: "/api/signup",
      referrer: null,
      utmSource: null,
      utmMedium: null,
      channel: "direct",
      channelRule: "none",
      props: { plan: "pro" },
      messageId: null,
    });
    expect(row.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(row.receivedAt.getTime()).toBeLessThanOrEqual(after);
    expect(row.occurredAt).toEqual(row.receivedAt);

    const stored = await loadProfile(app.db.prisma, profileId);
    expect(stored.profile).toMatchObject({
      workspaceId: seed.workspace.id,
      eventCount: 1,
      serverEventCount: 1,
      pageviewCount: 0,
      mergedIntoId: null,
      firstSeenAt: row.occurredAt,
      lastSeenAt: row.occurredAt,
    });
    expect(stored.identifiers.map((i) => [i.kind, i.value, i.workspaceId])).toEqual([
      ["VISITOR", visitorId, seed.workspace.id],
      ["EMAIL", email, seed.workspace.id],
    ]);
    expect(stored.timeline).toEqual([
      objectContaining({
        profileId,
        workspaceId: seed.workspace.id,
        funnelId: seed.funnel.id,
        trackingEventId: eventId,
        type: "signup",
        occurredAt: row.occurredAt,
      }),
    ]);
    expect(stored.funnelLinks).toEqual([
      objectContaining({
        funnelId: seed.funnel.id,
        workspaceId: seed.workspace.id,
        currentStage: "CONSIDERATION",
        eventCount: 1,
        stageChangedAt: row.occurredAt,
        firstSeenAt: row.occurredAt,
        lastSeenAt: row.occurredAt,
      }),
    ]);
  });

  it("tags the timeline with the site's own funnel, not the workspace default", async () => {
    const funnel = await app.db.prisma.funnel.create({
      data: { id: newId("fnl"), workspaceId: seed.workspace.id, name: "Enterprise" },
    });
    const site = await createTestSite(app.db.prisma, {
      workspaceId: seed.workspace.id,
      funnelId: funnel.id,
      domain: "enterprise.example.com",
    });
    const body = await record([{ type: "trial_start", visitorId: `v_${uid()}` }], { siteId: site.id });
    const { eventId, profileId } = body.events[0]!;
    expect(await trackingEvent(eventId)).toMatchObject({ siteId: site.id });
    const stored = await loadProfile(app.db.prisma, profileId);
    expect(stored.timeline.map((t) => t.funnelId)).toEqual([funnel.id]);
    expect(stored.funnelLinks.map((l) => [l.funnelId, l.currentStage])).toEqual([[funnel.id, "TRIAL"]]);
  });

  it.each([
    {
      name: "utm medium cpc",
      event: { utm: { source: "google", medium: "cpc", campaign: "brand" } },
      channel: "paid",
      rule: "utm_medium:cpc",
    },
    {
      name: "a click id in the path",
      event: { path: "/pricing?gclid=abc123" },
      channel: "paid",
      rule: "click_id:gclid",
    },
    {
      name: "a Google referrer",
      event: { referrer: "https://www.google.com/search?q=funnels" },
      channel: "organic_search",
      rule: "referrer:google.com",
    },
    {
      name: "utm medium email",
      event: { utm: { source: "newsletter", medium: "email" } },
      channel: "email",
      rule: "utm_medium:email",
    },
    {
      name: "a ChatGPT referrer",
      event: { referrer: "https://chatgpt.com/" },
      channel: "ai_llm",
      rule: "referrer:chatgpt.com",
    },
    { name: "a t.co referrer", event: { referrer: "https://t.co/abc" }, channel: "social", rule: "referrer:t.co" },
    {
      name: "another site's referrer",
      event: { referrer: "https://blog.partner.example/post" },
      channel: "referral",
      rule: "referrer:blog.partner.example",
    },
    {
      name: "a self-referral",
      event: { referrer: "https://shop.example.com/cart" },
      channel: "direct",
      rule: "self_referral:shop.example.com",
    },
    { name: "nothing at all", event: {}, channel: "direct", rule: "none" },
  ] as const)(
    "channel from $name: $channel, rule $rule, in the response and on the row",
    async ({ event, channel, rule }) => {
      const body = await record([{ type: "visit", visitorId: `v_${uid()}`, ...event }]);
      expect(body.events[0]!.channel).toBe(channel);
      const row = await trackingEvent(body.events[0]!.eventId);
      expect({ channel: row.channel, channelRule: row.channelRule }).toEqual({ channel, channelRule: rule });
      if ("utm" in event)
        expect({ s: row.utmSource, m: row.utmMedium }).toEqual({ s: event.utm?.source, m: event.utm?.medium });
    },
  );

  describe("identifiers", () => {
    it("one row per visitorId, email and (when sent) userId, all on the event's profile", async () => {
      const visitorId = `v_${uid()}`;
      const email = `id-${uid()}@example.com`;
      const body = await record([{ type: "identify", visitorId, email, userId: seed.owner.id }]);
      const stored = await loadProfile(app.db.prisma, body.events[0]!.profileId);
      expect(stored.identifiers.map((i) => [i.kind, i.value])).toEqual([
        ["VISITOR", visitorId],
        ["EMAIL", email],
        ["USER_ID", seed.owner.id],
      ]);
    });

    it("an identifier already known is not added twice; a new one joins the known profile", async () => {
      const visitorId = `v_${uid()}`;
      const first = await record([{ type: "visit", visitorId }]);
      const email = `later-${uid()}@example.com`;
      const second = await record([{ type: "identify", visitorId, email }]);
      expect(second.events[0]!.profileId).toBe(first.events[0]!.profileId);
      const stored = await loadProfile(app.db.prisma, first.events[0]!.profileId);
      expect(stored.identifiers.map((i) => [i.kind, i.value])).toEqual([
        ["VISITOR", visitorId],
        ["EMAIL", email],
      ]);
    });
  });

  describe("userId", () => {
    it("another user's id: 403 USER_ID_MISMATCH naming each offending event, nothing written", async () => {
      const before = await countIngestRows(app.db.prisma, seed.workspace.id);
      const e = errorOf(
        await send([
          { type: "signup", visitorId: `v_${uid()}`, userId: seed.owner.id },
          { type: "signup", visitorId: `v_${uid()}`, userId: seed.members.MANAGER!.id },
          { type: "signup", visitorId: `v_${uid()}` },
          { type: "signup", visitorId: `v_${uid()}`, userId: "usr_somebody_else" },
        ]),
      );
      expect({ status: e.status, reason: e.reason }).toEqual({ status: 403, reason: "USER_ID_MISMATCH" });
      expect(e.issues.map((i) => i.path)).toEqual([
        ["events", 1, "userId"],
        ["events", 3, "userId"],
      ]);
      expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
    });

    it("your own id is accepted and adds a USER_ID identifier", async () => {
      const body = await record([{ type: "identify", userId: seed.members.MANAGER!.id }], {}, managerCookie);
      const row = await trackingEvent(body.events[0]!.eventId);
      expect(row.userId).toBe(seed.members.MANAGER!.id);
      const stored = await loadProfile(app.db.prisma, body.events[0]!.profileId);
      expect(stored.identifiers.map((i) => [i.kind, i.value])).toEqual([["USER_ID", seed.members.MANAGER!.id]]);
    });

    it("the stored userId is always the session user's, also when the payload has none (then no USER_ID)", async () => {
      const visitorId = `v_${uid()}`;
      const byOwner = await record([{ type: "visit", visitorId }]);
      const byManager = await record(
        [{ type: "visit", visitorId, email: `m-${uid()}@example.com` }],
        {},
        managerCookie,
      );
      expect((await trackingEvent(byOwner.events[0]!.eventId)).userId).toBe(seed.owner.id);
      expect((await trackingEvent(byManager.events[0]!.eventId)).userId).toBe(seed.members.MANAGER!.id);
      const stored = await loadProfile(app.db.prisma, byOwner.events[0]!.profileId);
      expect(stored.identifiers.map((i) => i.kind)).not.toContain("USER_ID");
    });
  });

  describe("funnel stage", () => {
    const stageAfter = async (types: string[], visitorId = `v_${uid()}`) => {
      let stage = "";
      for (const type of types) stage = (await record([{ type, visitorId }])).events[0]!.stage;
      return stage;
    };

    it.each([
      ["an unknown type", ["invited_teammate"], "AWARENESS"],
      ["signup", ["signup"], "CONSIDERATION"],
      ["identify", ["identify"], "CONSIDERATION"],
      ["trial_signup", ["trial_signup"], "TRIAL"],
      ["trial_start", ["trial_start"], "TRIAL"],
      ["awareness, then signup", ["invited_teammate", "signup"], "CONSIDERATION"],
      ["signup, then trial_start", ["signup", "trial_start"], "TRIAL"],
      ["trial_start, then a later signup (never backwards)", ["trial_start", "signup"], "TRIAL"],
      ["trial_signup, then an unknown type", ["trial_signup", "invited_teammate"], "TRIAL"],
    ])("%s → %s", async (_, types, stage) => {
      expect(await stageAfter(types)).toBe(stage);
    });

    it("the link is created at the stage and keeps it; stageChangedAt moves only when the stage advances", async () => {
      const visitorId = `v_${uid()}`;
      const awareAt = Date.now() - 3 * DAY;
      const first = await record([{ type: "invited_teammate", visitorId, timestamp: iso(awareAt) }]);
      const profileId = first.events[0]!.profileId;
      expect(await linkOf(profileId)).toMatchObject({ currentStage: "AWARENESS", stageChangedAt: new Date(awareAt) });
      const trialAt = Date.now() - 2 * DAY;
      await record([{ type: "trial_start", visitorId, timestamp: iso(trialAt) }]);
      expect(await linkOf(profileId)).toMatchObject({ currentStage: "TRIAL", stageChangedAt: new Date(trialAt) });
      await record([{ type: "signup", visitorId }]);
      expect(await linkOf(profileId)).toMatchObject({ currentStage: "TRIAL", stageChangedAt: new Date(trialAt) });
    });

    it("a back-filled older event never moves the stage back", async () => {
      const visitorId = `v_${uid()}`;
      const trial = await record([{ type: "trial_start", visitorId }]);
      const backfilled = await record([{ type: "identify", visitorId, timestamp: iso(Date.now() - 5 * DAY) }]);
      expect(backfilled.events[0]!.stage).toBe("TRIAL");
      expect(await linkOf(trial.events[0]!.profileId)).toMatchObject({ currentStage: "TRIAL", eventCount: 2 });
    });

    it("in one batch, the highest stage wins whatever the order", async () => {
      const visitorId = `v_${uid()}`;
      const body = await record([
        { type: "trial_signup", visitorId },
        { type: "signup", visitorId },
        { type: "invited_teammate", visitorId },
      ]);
      expect(body.events.map((e) => e.stage)).toEqual(["TRIAL", "TRIAL", "TRIAL"]);
    });
  });

  describe("counters and first/last seen", () => {
    it("count every event on the profile and the link; back-filled timestamps widen first/last seen", async () => {
      const visitorId = `v_${uid()}`;
      const now = Date.now();
      const t = (daysAgo: number) => iso(now - daysAgo * DAY);
      const first = await record([{ type: "visit", visitorId, timestamp: t(2) }]);
      const profileId = first.events[0]!.profileId;
      await record([
        { type: "pageview", visitorId, timestamp: t(1) },
        { type: "visit", visitorId, timestamp: t(1) },
      ]);
      await record([{ type: "visit", visitorId, timestamp: t(10) }]); // back-filled: earlier than everything

      const stored = await loadProfile(app.db.prisma, profileId);
      expect(stored.profile).toMatchObject({
        eventCount: 4,
        serverEventCount: 4,
        pageviewCount: 1,
        firstSeenAt: new Date(t(10)),
        lastSeenAt: new Date(t(1)),
      });
      expect(stored.funnelLinks[0]).toMatchObject({
        eventCount: 4,
        firstSeenAt: new Date(t(10)),
        lastSeenAt: new Date(t(1)),
      });
      expect(stored.timeline).toHaveLength(4);

      await record([{ type: "visit", visitorId }]);
      const later = await loadProfile(app.db.prisma, profileId);
      expect(later.profile.eventCount).toBe(5);
      expect(later.profile.lastSeenAt.getTime()).toBeGreaterThanOrEqual(now);
      expect(later.profile.firstSeenAt).toEqual(new Date(t(10)));
    });

    it("counters equal the counted rows after a batch of 50 about 5 people", async () => {
      const visitors = Array.from({ length: 5 }, () => `v_${uid()}`);
      const body = await record(
        Array.from({ length: 50 }, (_, i) => ({
          type: i % 7 === 0 ? "pageview" : "visit",
          visitorId: visitors[i % 5]!,
        })),
      );
      const profileIds = [...new Set(body.events.map((e) => e.profileId))];
      expect(profileIds).toHaveLength(5);
      for (const profileId of profileIds) {
        const stored = await loadProfile(app.db.prisma, profileId);
        const events = await app.db.prisma.trackingEvent.findMany({ where: { profileId } });
        expect(stored.profile.eventCount).toBe(events.length);
        expect(stored.profile.serverEventCount).toBe(events.length);
        expect(stored.profile.pageviewCount).toBe(events.filter((e) => e.type === "pageview").length);
        expect(stored.funnelLinks[0]!.eventCount).toBe(events.length);
        expect(stored.timeline).toHaveLength(events.length);
      }
    });
  });

  describe("occurredAt and clock skew", () => {
    it("with sentAt = timestamp + 10 min, occurredAt = receivedAt − 10 min", async () => {
      const clientNow = Date.now() + 7 * MINUTE; // the client's clock runs 7 minutes fast
      const body = await record([{ type: "visit", visitorId: `v_${uid()}`, timestamp: iso(clientNow - 10 * MINUTE) }], {
        sentAt: iso(clientNow),
      });
      const row = await trackingEvent(body.events[0]!.eventId);
      expect(row.receivedAt.getTime() - row.occurredAt.getTime()).toBe(10 * MINUTE);
    });

    it("without sentAt, the timestamp is taken as is", async () => {
      const timestamp = "2026-01-15T08:30:00.123Z";
      const body = await record([{ type: "visit", visitorId: `v_${uid()}`, timestamp }]);
      expect((await trackingEvent(body.events[0]!.eventId)).occurredAt.toISOString()).toBe(timestamp);
    });

    it("a timestamp with an offset is read as that instant", async () => {
      const body = await record([{ type: "visit", visitorId: `v_${uid()}`, timestamp: "2026-01-15T10:30:00+02:00" }]);
      expect((await trackingEvent(body.events[0]!.eventId)).occurredAt.toISOString()).toBe("2026-01-15T08:30:00.000Z");
    });

    it("no timestamp: occurredAt = receivedAt, also when sentAt is given", async () => {
      const body = await record([{ type: "visit", visitorId: `v_${uid()}` }], {
        sentAt: iso(Date.now() - 30 * MINUTE),
      });
      const row = await trackingEvent(body.events[0]!.eventId);
      expect(row.occurredAt).toEqual(row.receivedAt);
    });
  });

  describe("all or nothing", () => {
    it("a batch whose event 3 is invalid writes nothing, not even events 0–2", async () => {
      const visitors = Array.from({ length: 5 }, () => `v_${uid()}`);
      const before = await countIngestRows(app.db.prisma, seed.workspace.id);
      const events = visitors.map((visitorId, i) => ({
        type: "signup",
        visitorId,
        ...(i === 3 ? { props: unchecked<Record<string, unknown>>("not an object") } : {}),
      }));
      const e = errorOf(await send(events));
      expect(e.status).toBe(400);
      expect(e.issues.map((i) => i.path)).toEqual([["events", 3, "props"]]);
      expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
      expect(await app.db.prisma.profileIdentifier.count({ where: { value: { in: visitors } } })).toBe(0);
    });

    it("a database failure in a late step rolls back the event log and the profiles written before it", async () => {
      // A trigger that fails the timeline insert of one event type: everything before it in the
      // transaction (tracking_events, profiles, identifiers) must disappear with it.
      await app.db.prisma.$executeRawUnsafe(`
        CREATE OR REPLACE FUNCTION fail_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.type = 'fail_in_database' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
      await app.db.prisma.$executeRawUnsafe(`DROP TRIGGER IF EXISTS fail_timeline ON profile_events`);
      await app.db.prisma.$executeRawUnsafe(
        `CREATE TRIGGER fail_timeline BEFORE INSERT ON profile_events FOR EACH ROW EXECUTE FUNCTION fail_timeline()`,
      );
      try {
        const visitorId = `v_${uid()}`;
        const known = await record([{ type: "visit", visitorId }]);
        const profileBefore = await loadProfile(app.db.prisma, known.events[0]!.profileId);
        const before = await countIngestRows(app.db.prisma, seed.workspace.id);
        const e = errorOf(
          await send([
            { type: "signup", visitorId, email: `x-${uid()}@example.com` },
            { type: "visit", visitorId: `v_${uid()}` },
            { type: "fail_in_database", visitorId: `v_${uid()}` },
          ]),
        );
        expect({ status: e.status, reason: e.reason, message: e.message }).toEqual({
          status: 500,
          reason: "INTERNAL",
          message: "Internal server error",
        });
        expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
        expect(await loadProfile(app.db.prisma, known.events[0]!.profileId)).toEqual(profileBefore);
      } finally {
        await app.db.prisma.$executeRawUnsafe(`DROP TRIGGER IF EXISTS fail_timeline ON profile_events`);
      }
      // And the service is fine afterwards.
      expect((await record([{ type: "visit", visitorId: `v_${uid()}` }])).accepted).toBe(1);
    });
  });
});
