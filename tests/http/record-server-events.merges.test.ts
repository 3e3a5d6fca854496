import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uid, type TSeededWorkspace } from "../support/fixtures.ts";
import { countIngestRows, loadProfile } from "../support/ingest-state.ts";
import type { TTestApp } from "../support/test-app.ts";
import { okBody, TRANSPORTS, type TServerEventInput, type TWire, startWiredApp } from "../support/wire.ts";

let app: TTestApp;
let wire: TWire;

beforeAll(async () => ({ app, wire } = await startWiredApp()));
afterAll(() => app?.close());

const DAY = 24 * 60 * 60_000;
const visitor = () => `v_${uid()}`;
const email = () => `p-${uid()}@example.com`;

describe.each(TRANSPORTS)("profile merges over %s", (transport) => {
  /** A fresh workspace and its owner's session; `record` sends one request, `first` returns its first event. */
  async function workspace() {
    const seed: TSeededWorkspace = await app.seedWorkspace();
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const record = async (...events: TServerEventInput[]) =>
      okBody(
        await wire.record(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id, events }, { cookie }),
      );
    const first = async (...events: TServerEventInput[]) => (await record(...events)).events[0]!;
    const get = async (profileId: string) =>
      okBody(await wire.getProfile(transport, { workspaceId: seed.workspace.id, profileId }, { cookie }));
    const lookup = async (by: { visitorId: string } | { email: string }) =>
      okBody(await wire.lookup(transport, { workspaceId: seed.workspace.id, ...by }, { cookie })).profile;
    return { seed, cookie, record, first, get, lookup };
  }
  let ws: Awaited<ReturnType<typeof workspace>>;
  beforeAll(async () => {
    ws = await workspace();
  });

  const identifiersOf = async (profileId: string) =>
    (await loadProfile(app.db.prisma, profileId)).identifiers.map((i) => `${i.kind}:${i.value}`).sort();
  const mergesInto = (survivorId: string) =>
    app.db.prisma.profileMerge.findMany({ where: { survivorId }, orderBy: { mergedId: "asc" } });
  const mergedIntoOf = async (profileId: string) => (await loadProfile(app.db.prisma, profileId)).profile.mergedIntoId;

  it("visitor A, then visitor B + email X, then A + X: merged into the oldest, moved, audited, redirects", async () => {
    const { seed, record, first, get, lookup } = ws;
    const [A, B, X] = [visitor(), visitor(), email()];
    const now = Date.now();
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY);
    const messageId = `m_${uid()}`;

    const p1 = (await first({ type: "visit", visitorId: A, timestamp: at(10).toISOString() })).profileId;
    const e2 = await first({ type: "trial_start", visitorId: B, email: X, messageId, timestamp: at(5).toISOString() });
    const p2 = e2.profileId;
    expect(p2).not.toBe(p1);
    const merging = await record({ type: "identify", visitorId: A, email: X, timestamp: at(7).toISOString() });

    // The response: the event is on the survivor, which absorbed the loser (and its TRIAL stage).
    expect(merging.events[0]).toMatchObject({ profileId: p1, status: "recorded", merged: [p2], stage: "TRIAL" });

    // The loser: a tombstone pointing at the survivor, with nothing left on it.
    const loser = await loadProfile(app.db.prisma, p2);
    expect(loser.profile.mergedIntoId).toBe(p1);
    expect(loser.profile.mergedAt).toBeInstanceOf(Date);
    expect({ identifiers: loser.identifiers, timeline: loser.timeline, links: loser.funnelLinks }).toEqual({
      identifiers: [],
      timeline: [],
      links: [],
    });

    // The survivor: identifiers and timeline moved, counters summed, first/last seen widened, higher stage kept.
    const survivor = await loadProfile(app.db.prisma, p1);
    expect(await identifiersOf(p1)).toEqual([`EMAIL:${X}`, `VISITOR:${A}`, `VISITOR:${B}`].sort());
    expect(survivor.profile).toMatchObject({
      mergedIntoId: null,
      eventCount: 3,
      serverEventCount: 3,
      firstSeenAt: at(10),
      lastSeenAt: at(5),
    });
    expect(survivor.funnelLinks).toEqual([
      expect.objectContaining({
        funnelId: seed.funnel.id,
        currentStage: "TRIAL",
        stageChangedAt: at(5),
        eventCount: 3,
        firstSeenAt: at(10),
        lastSeenAt: at(5),
      }),
    ]);
    const events = survivor.timeline.filter((t) => t.type !== "$merge");
    expect(events.map((t) => [t.type, t.occurredAt])).toEqual([
      ["visit", at(10)],
      ["identify", at(7)],
      ["trial_start", at(5)],
    ]);
    expect(events.find((t) => t.type === "trial_start")!.trackingEventId).toBe(e2.eventId);

    // One `$merge` timeline entry and one audit row, both naming the loser and the identifier that linked them.
    expect(survivor.timeline.filter((t) => t.type === "$merge")).toEqual([
      expect.objectContaining({
        profileId: p1,
        workspaceId: seed.workspace.id,
        funnelId: seed.funnel.id,
        trackingEventId: null,
        detail: { mergedProfileId: p2, identifier: { kind: "EMAIL", value: X } },
      }),
    ]);
    expect(await mergesInto(p1)).toEqual([
      expect.objectContaining({
        workspaceId: seed.workspace.id,
        survivorId: p1,
        mergedId: p2,
        identifierKind: "EMAIL",
        identifierValue: X,
        trackingEventId: merging.events[0]!.eventId,
      }),
    ]);

    // Reads follow the merge: the loser's id answers with the survivor; B's lookup finds the survivor.
    const got = await get(p2);
    expect(got.profile.id).toBe(p1);
    expect(got.redirectedFrom).toBe(p2);
    expect(got.timeline.items.map((i) => i.type)).toEqual(["$merge", "trial_start", "identify", "visit"]);
    // Each entry says who recorded it: these all came through this API; a merge entry has no source.
    expect(got.timeline.items.map((i) => i.source)).toEqual([null, "SERVER", "SERVER", "SERVER"]);
    expect(await lookup({ visitorId: B })).toMatchObject({ id: p1, eventCount: 3 });
    expect((await get(p1)).redirectedFrom).toBeNull();
    // The event log keeps the id of the time in the database, but reads show where the person lives now.
    expect((await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: e2.eventId } })).profileId).toBe(p2);
    const listed = okBody(
      await wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id }, { cookie: ws.cookie }),
    ).items;
    expect(listed.find((e) => e.id === e2.eventId)!.profileId).toBe(p1);

    // New events about B, and a retry of the loser's original event, land on the survivor.
    expect((await first({ type: "visit", visitorId: B })).profileId).toBe(p1);
    expect(await first({ type: "trial_start", visitorId: B, email: X, messageId })).toMatchObject({
      status: "duplicate",
      eventId: e2.eventId,
      profileId: p1,
      stage: "TRIAL",
    });
  });

  it("the survivor is the oldest profile, whichever identifier the event names first", async () => {
    const { first } = ws;
    const [O, N, X] = [visitor(), visitor(), email()];
    const pOld = (await first({ type: "signup", visitorId: O, email: X })).profileId;
    const pNew = (await first({ type: "visit", visitorId: N })).profileId;
    // visitorId N (the newer profile's) comes before email X (the older one's) in the event.
    expect(await first({ type: "identify", visitorId: N, email: X })).toMatchObject({
      profileId: pOld,
      merged: [pNew],
    });
    expect(await mergedIntoOf(pNew)).toBe(pOld);
  });

  it("one event whose visitorId, email and userId belong to three profiles merges two into the oldest", async () => {
    const { seed, first } = await workspace();
    const [A, X] = [visitor(), email()];
    const p1 = (await first({ type: "visit", visitorId: A })).profileId;
    const p2 = (await first({ type: "signup", email: X })).profileId;
    const p3 = (await first({ type: "visit", userId: seed.owner.id })).profileId;
    const event = await first({ type: "identify", visitorId: A, email: X, userId: seed.owner.id });
    expect(event.profileId).toBe(p1);
    expect([...event.merged!].sort()).toEqual([p2, p3].sort());
    expect((await mergesInto(p1)).map((m) => [m.mergedId, m.identifierKind])).toEqual(
      [
        [p2, "EMAIL"],
        [p3, "USER_ID"],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(await identifiersOf(p1)).toEqual([`EMAIL:${X}`, `USER_ID:${seed.owner.id}`, `VISITOR:${A}`].sort());
    expect((await loadProfile(app.db.prisma, p1)).profile).toMatchObject({ eventCount: 4, serverEventCount: 4 });
  });

  it("a chain in one request: C+X merges into X's profile, then A+X merges that into A's (the oldest)", async () => {
    const { first, record, get } = ws;
    const [A, B, C, X] = [visitor(), visitor(), visitor(), email()];
    const p1 = (await first({ type: "visit", visitorId: A })).profileId;
    const p2 = (await first({ type: "signup", visitorId: B, email: X })).profileId;
    const p3 = (await first({ type: "visit", visitorId: C })).profileId;
    const body = await record(
      { type: "identify", visitorId: C, email: X },
      { type: "identify", visitorId: A, email: X },
    );
    // Every event answers with the profile it is on at the end of the request.
    expect(body.events.map((e) => [e.profileId, e.merged])).toEqual([
      [p1, [p3]],
      [p1, [p2]],
    ]);
    expect((await loadProfile(app.db.prisma, p1)).profile.eventCount).toBe(5);
    expect(await identifiersOf(p1)).toEqual([`EMAIL:${X}`, `VISITOR:${A}`, `VISITOR:${B}`, `VISITOR:${C}`].sort());
    for (const loser of [p2, p3]) expect(await mergedIntoOf(loser)).toBe(p1);
    expect((await mergesInto(p1)).map((m) => m.mergedId)).toEqual([p2, p3].sort());
    expect(await get(p3)).toMatchObject({ profile: { id: p1 }, redirectedFrom: p3 });
  });

  it("a chain across requests: a profile merged away earlier follows its survivor when that is merged", async () => {
    const { first, get } = ws;
    const [Z, A, B, X] = [visitor(), visitor(), visitor(), email()];
    const p0 = (await first({ type: "visit", visitorId: Z })).profileId;
    const p1 = (await first({ type: "visit", visitorId: A })).profileId;
    const p2 = (await first({ type: "visit", visitorId: B, email: X })).profileId;
    expect((await first({ type: "identify", visitorId: A, email: X })).merged).toEqual([p2]);
    expect(await first({ type: "identify", visitorId: Z, email: X })).toMatchObject({ profileId: p0, merged: [p1] });
    expect(await mergedIntoOf(p1)).toBe(p0);
    expect(await mergedIntoOf(p2)).toBe(p0);
    expect(await get(p2)).toMatchObject({ profile: { id: p0, eventCount: 5 }, redirectedFrom: p2 });
  });

  it("profiles linked only inside one request become one profile without merge rows", async () => {
    const { seed, record } = ws;
    const [A, B, X] = [visitor(), visitor(), email()];
    const before = await countIngestRows(app.db.prisma, seed.workspace.id);
    const body = await record(
      { type: "visit", visitorId: A },
      { type: "visit", visitorId: B, email: X },
      { type: "identify", visitorId: A, email: X },
    );
    const profileIds = [...new Set(body.events.map((e) => e.profileId))];
    expect(profileIds).toHaveLength(1);
    expect(body.events.every((e) => e.merged === undefined)).toBe(true);
    const after = await countIngestRows(app.db.prisma, seed.workspace.id);
    expect({ profiles: after.profiles - before.profiles, merges: after.merges - before.merges }).toEqual({
      profiles: 1,
      merges: 0,
    });
    expect(await identifiersOf(profileIds[0]!)).toEqual([`EMAIL:${X}`, `VISITOR:${A}`, `VISITOR:${B}`].sort());
  });

  describe("two different emails are never merged (a shared device is not one person)", () => {
    it("profile 1's visitor with profile 2's email: the event goes to the email's owner, merge refused", async () => {
      const { seed, first } = ws;
      const [V1, V2, E1, E2] = [visitor(), visitor(), email(), email()];
      const p1 = (await first({ type: "signup", visitorId: V1, email: E1 })).profileId;
      const p2 = (await first({ type: "signup", visitorId: V2, email: E2 })).profileId;
      const p1Before = await loadProfile(app.db.prisma, p1);
      const mergesBefore = (await countIngestRows(app.db.prisma, seed.workspace.id)).merges;

      const event = await first({ type: "trial_start", visitorId: V1, email: E2 });
      expect(event).toMatchObject({
        profileId: p2,
        stage: "TRIAL",
        mergeRefused: { profileIds: [p1], reason: "different_email" },
      });
      expect(event.merged).toBeUndefined();
      expect(await loadProfile(app.db.prisma, p1)).toEqual(p1Before);
      expect(await identifiersOf(p2)).toEqual([`EMAIL:${E2}`, `VISITOR:${V2}`].sort());
      expect((await loadProfile(app.db.prisma, p2)).profile).toMatchObject({ mergedIntoId: null, eventCount: 2 });
      expect((await countIngestRows(app.db.prisma, seed.workspace.id)).merges).toBe(mergesBefore);
    });

    it("a known visitor with a new, different email: a new profile owns the email, the visitor stays put", async () => {
      const { first, lookup } = ws;
      const [V, E1, E2] = [visitor(), email(), email()];
      const p1 = (await first({ type: "signup", visitorId: V, email: E1 })).profileId;
      const event = await first({ type: "signup", visitorId: V, email: E2 });
      expect(event.profileId).not.toBe(p1);
      expect(event.mergeRefused).toEqual({ profileIds: [p1], reason: "different_email" });
      expect((await lookup({ email: E2 }))?.id).toBe(event.profileId);
      expect((await lookup({ visitorId: V }))?.id).toBe(p1);
      expect(await mergedIntoOf(p1)).toBeNull();
    });

    it("an email-less event linking profiles with different emails joins the oldest, refuses the other", async () => {
      const { seed, first } = await workspace();
      const [A, B, E1, E2] = [visitor(), visitor(), email(), email()];
      const p1 = (await first({ type: "signup", visitorId: A, email: E1 })).profileId;
      const p2 = (await first({ type: "signup", visitorId: B, email: E2 })).profileId;
      expect((await first({ type: "visit", visitorId: A, userId: seed.owner.id })).profileId).toBe(p1);
      // B is p2's, the USER_ID is now p1's: the event links them, but their emails differ.
      const event = await first({ type: "visit", visitorId: B, userId: seed.owner.id });
      expect(event).toMatchObject({ profileId: p1, mergeRefused: { profileIds: [p2], reason: "different_email" } });
      expect(event.merged).toBeUndefined();
      for (const p of [p1, p2]) expect(await mergedIntoOf(p)).toBeNull();
      expect(await identifiersOf(p2)).toEqual([`EMAIL:${E2}`, `VISITOR:${B}`].sort());
    });
  });
});
