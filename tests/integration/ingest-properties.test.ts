import fc from "fast-check";
import type { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import type { TRecordResult } from "../../server/tracking/recorded-event.schema.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import type { TFunnelStage } from "../../server/tracking/stages.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import {
  findInvariantViolations,
  findStageRegressions,
  readStages,
  snapshotIngestState,
} from "../support/ingest-invariants.ts";
import { createTestDatabase } from "../support/test-database.ts";

type TEventInput = z.input<typeof ZRecordServerEventsBody>["events"][number];

/** Statements sent while `statements` is an array; null when nobody is counting. */
let statements: string[] | null = null;
let db: TDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ onQuery: (sql) => void statements?.push(sql) });
});
afterAll(async () => {
  await db?.close();
});

/** Calls the domain function as the procedure does: the body parsed (trimmed, lower-cased) first. */
function record(ws: TSeededWorkspace, events: TEventInput[], extra: { sentAt?: string } = {}): Promise<TRecordResult> {
  const body = ZRecordServerEventsBody.parse({ siteId: ws.site.id, ...extra, events });
  return ingestEvents(db, {
    workspaceId: ws.workspace.id,
    actor: { kind: "session", userId: ws.owner.id },
    body,
  });
}

async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; count: number; sql: string[] }> {
  statements = [];
  try {
    const result = await fn();
    return { result, count: statements.length, sql: statements };
  } finally {
    statements = null;
  }
}

async function liveOwners(ws: TSeededWorkspace, identifiers: { kind: "VISITOR" | "EMAIL"; value: string }[]) {
  return db.prisma.$queryRaw<{ kind: string; value: string; profileId: string; mergedIntoId: string | null }[]>`
    SELECT i.kind::text AS kind, i.value, i.profile_id AS "profileId", p.merged_into_id AS "mergedIntoId"
    FROM profile_identifiers i JOIN profiles p ON p.id = i.profile_id
    WHERE i.workspace_id = ${ws.workspace.id}
      AND (i.kind::text, i.value) IN (
        SELECT * FROM unnest(${identifiers.map((i) => i.kind)}::text[], ${identifiers.map((i) => i.value)}::text[])
      )`;
}

describe("set-based SQL: statements per request do not grow with the events", () => {
  it("a 50-event request with new visitors, emails, duplicates and a merge costs bounded statements", async () => {
    const ws = await seedWorkspace(db.prisma);
    // Two profiles the big batch will link (a merge), and a messageId it will repeat (a duplicate).
    await record(ws, [{ type: "pageview", visitorId: "merge-visitor", messageId: "seen-before" }]);
    await record(ws, [{ type: "signup", email: "merge@x.test" }]);

    const single = await countStatements(() =>
      record(ws, [{ type: "signup", visitorId: "solo", messageId: "solo-1" }]),
    );
    expect(single.result.accepted).toBe(1);

    const types = ["signup", "identify", "trial_start", "pageview", "custom"];
    const events: TEventInput[] = [
      { type: "identify", visitorId: "merge-visitor", email: "merge@x.test" },
      { type: "pageview", visitorId: "merge-visitor", messageId: "seen-before" },
      ...Array.from({ length: 48 }, (_, i): TEventInput => ({
        type: types[i % types.length]!,
        visitorId: `bulk-${i % 20}`,
        ...(i % 3 === 0 ? { email: `bulk-${i % 20}@x.test` } : {}),
        ...(i % 2 === 0 ? { messageId: `bulk-msg-${i}` } : {}),
        ...(i % 7 === 0 ? { referrer: "https://www.google.com/", path: "/pricing?utm_source=newsletter" } : {}),
      })),
    ];
    const batch = await countStatements(() => record(ws, events));
    expect(batch.result).toMatchObject({ accepted: 49, duplicates: 1 });
    expect(batch.result.events[0]!.merged).toHaveLength(1);

    // One simple query (BEGIN, the site check with the advisory locks, then the row locks, owners
    // and duplicates as EXECUTE of the prepared statement), then the write with COMMIT: two round
    // trips, with or without existing profiles.
    expect(single.count).toBe(2);
    expect(batch.count).toBe(2);
    expect(batch.sql[0]).toMatch(
      /^BEGIN ISOLATION LEVEL READ COMMITTED;.*pg_advisory_xact_lock.*EXECUTE ingest_lock_profiles\(/s,
    );
    expect(batch.sql[1]).toMatch(/^EXECUTE ingest_write_batch\(.*\);\nCOMMIT$/s);
    expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
  });

  it("the same shape of batch costs the same number of statements at 5 and at 50 events", async () => {
    const ws = await seedWorkspace(db.prisma);
    const shape = (n: number, tag: string): TEventInput[] =>
      Array.from({ length: n }, (_, i) => ({
        type: i % 2 ? "signup" : "custom",
        visitorId: `${tag}-v${i}`,
        email: `${tag}-${i}@x.test`,
        messageId: `${tag}-${i}`,
      }));
    // The first request on a connection prepares the lock statement (one round trip more): warm it.
    await record(ws, shape(1, "warm"));
    const small = await countStatements(() => record(ws, shape(5, "small")));
    const large = await countStatements(() => record(ws, shape(50, "large")));
    expect(large.count).toBe(small.count);
  });
});

describe("concurrency", () => {
  it("20 parallel requests about one new visitor and email make exactly one live profile and no error", async () => {
    const ws = await seedWorkspace(db.prisma);
    const types = ["signup", "identify", "trial_start", "pageview", "custom"];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        record(ws, [{ type: `${types[i % types.length]}`, visitorId: "same-visitor", email: "same@x.test" }]),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const recorded = results.map((r) => (r as PromiseFulfilledResult<TRecordResult>).value.events[0]!);

    const owners = await liveOwners(ws, [
      { kind: "VISITOR", value: "same-visitor" },
      { kind: "EMAIL", value: "same@x.test" },
    ]);
    expect(owners).toHaveLength(2);
    expect(owners.every((o) => o.mergedIntoId === null && o.profileId === owners[0]!.profileId)).toBe(true);
    const profileId = owners[0]!.profileId;
    expect(new Set(recorded.map((e) => e.profileId))).toEqual(new Set([profileId]));

    const profiles = await db.prisma.profile.findMany({ where: { workspaceId: ws.workspace.id } });
    expect(profiles).toHaveLength(1);
    expect(profiles[0]).toMatchObject({
      id: profileId,
      eventCount: 20,
      serverEventCount: 20,
      pageviewCount: 4,
      mergedIntoId: null,
    });
    const link = await db.prisma.profileFunnelLink.findUniqueOrThrow({
      where: { profileId_funnelId: { profileId, funnelId: ws.funnel.id } },
    });
    expect(link).toMatchObject({ eventCount: 20, currentStage: "TRIAL" });
    expect(await db.prisma.trackingEvent.count({ where: { workspaceId: ws.workspace.id } })).toBe(20);
    expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
  });

  it("20 parallel requests with crossing visitors and emails all succeed and leave the invariants intact", async () => {
    const ws = await seedWorkspace(db.prisma);
    // Existing people, so requests merge and refuse merges while others write to the same profiles.
    await record(ws, [
      { type: "custom", visitorId: "x-v0" },
      { type: "custom", visitorId: "x-v1" },
      { type: "signup", email: "x0@x.test" },
      { type: "signup", email: "x1@x.test" },
    ]);
    const requests: TEventInput[][] = Array.from({ length: 20 }, (_, i) => {
      const v = (k: number) => `x-v${k % 4}`;
      const e = (k: number) => `x${k % 3}@x.test`;
      return [
        { type: "identify", visitorId: v(i), email: e(i + 1) },
        { type: "pageview", visitorId: v(i + 1), email: e(i) },
        ...(i % 2
          ? [{ type: "trial_start", visitorId: v(i + 2), userId: ws.owner.id }]
          : [{ type: "custom", email: e(i + 2) }]),
      ];
    });
    const results = await Promise.allSettled(requests.map((events) => record(ws, events)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const accepted = results.reduce((n, r) => n + (r as PromiseFulfilledResult<TRecordResult>).value.accepted, 0);
    expect(accepted).toBe(60);
    expect(await db.prisma.trackingEvent.count({ where: { workspaceId: ws.workspace.id } })).toBe(64);
    expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
  });

  // The advisory locks cover the identifiers a request names. These requests reach the same
  // people through DIFFERENT identifiers: one merges A into B (linking A's visitor with B's email)
  // while another writes to B through B's visitor; two add different emails to U, one through U's
  // visitor, one through its user id. Only a lock on the profiles themselves keeps them apart.
  it(
    "20 parallel requests reaching the same people by different identifiers: no write to a merged profile, " +
      "one email per profile",
    async () => {
      for (let round = 0; round < 3; round++) {
        const ws = await seedWorkspace(db.prisma);
        const pairs = [0, 1, 2, 3, 4, 5, 6, 7, 8];
        // B is created after A, so B is the younger one: the merge folds B (and its visitor) into A.
        await record(ws, [
          ...pairs.map((k) => ({ type: "custom", visitorId: `a${k}-v` })),
          { type: "custom", visitorId: "u-v", userId: ws.owner.id },
        ]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await record(
          ws,
          pairs.map((k) => ({ type: "custom", visitorId: `b${k}-v`, email: `b${k}@x.test` })),
        );
        const requests: TEventInput[][] = [
          ...pairs.flatMap((k): TEventInput[][] => [
            [{ type: "identify", visitorId: `a${k}-v`, email: `b${k}@x.test` }],
            [{ type: "trial_start", visitorId: `b${k}-v` }],
          ]),
          [{ type: "identify", visitorId: "u-v", email: "x@x.test" }],
          [{ type: "signup", userId: ws.owner.id, email: "y@x.test" }],
        ];
        const results = await Promise.allSettled(requests.map((events) => record(ws, events)));
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
        expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
        for (const k of pairs) {
          const owners = await liveOwners(ws, [
            { kind: "VISITOR", value: `a${k}-v` },
            { kind: "VISITOR", value: `b${k}-v` },
            { kind: "EMAIL", value: `b${k}@x.test` },
          ]);
          expect(owners.map((o) => o.mergedIntoId)).toEqual([null, null, null]);
          expect(new Set(owners.map((o) => o.profileId)).size).toBe(1);
        }
        const [x, y] = await liveOwners(ws, [
          { kind: "EMAIL", value: "x@x.test" },
          { kind: "EMAIL", value: "y@x.test" },
        ]).then((rows) => ["x@x.test", "y@x.test"].map((v) => rows.find((r) => r.value === v)!.profileId));
        expect(x).not.toBe(y);
      }
    },
    60_000,
  );
});

// Random sequences of batches. A small alphabet of identifiers and messageIds makes the same
// people, merges, refused merges and repeated messageIds the common case.

const TYPES = ["signup", "identify", "trial_start", "pageview", "custom"] as const;
const VISITORS = ["v0", "v1", "v2", "v3"];
const EMAILS = ["a@x.test", "b@x.test", "c@x.test"];
const MESSAGE_IDS = Array.from({ length: 8 }, (_, i) => `m${i}`);
const DAY = 86_400_000;

type TGenEvent = {
  type: string;
  visitorId?: string;
  email?: string;
  withUserId: boolean;
  messageId?: string;
  ageMs?: number;
};

const arbEvent: fc.Arbitrary<TGenEvent> = fc
  .record({
    type: fc.constantFrom(...TYPES),
    visitorId: fc.option(fc.constantFrom(...VISITORS), { nil: undefined }),
    email: fc.option(fc.constantFrom(...EMAILS), { nil: undefined }),
    withUserId: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    messageId: fc.option(fc.constantFrom(...MESSAGE_IDS), { nil: undefined }),
    ageMs: fc.option(fc.integer({ min: 0, max: 30 * DAY }), { nil: undefined }),
  })
  .filter((e) => e.visitorId !== undefined || e.email !== undefined || e.withUserId);

const arbBatch = fc.record({
  events: fc.array(arbEvent, { minLength: 1, maxLength: 10 }),
  /** Replay this batch right away (every event then gets a messageId) and expect no change. */
  replay: fc.boolean(),
  withSentAt: fc.boolean(),
});

const arbRun = fc.array(arbBatch, { minLength: 1, maxLength: 5 });

function toInput(
  batch: { events: TGenEvent[]; replay: boolean },
  ws: TSeededWorkspace,
  now: number,
  batchIndex: number,
): TEventInput[] {
  const used = new Set<string>();
  return batch.events.map((e, i) => {
    // One messageId once per request (the schema rejects repeats); a replayed batch needs them all.
    let messageId = e.messageId !== undefined && !used.has(e.messageId) ? e.messageId : undefined;
    if (messageId === undefined && batch.replay) messageId = `b${batchIndex}-e${i}`;
    if (messageId !== undefined) used.add(messageId);
    return {
      type: e.type,
      ...(e.visitorId !== undefined ? { visitorId: e.visitorId } : {}),
      ...(e.email !== undefined ? { email: e.email.toUpperCase() } : {}),
      ...(e.withUserId ? { userId: ws.owner.id } : {}),
      ...(messageId !== undefined ? { messageId } : {}),
      ...(e.ageMs !== undefined ? { timestamp: new Date(now - e.ageMs).toISOString() } : {}),
    };
  });
}

describe("invariants under random sequences of batches", () => {
  it("identifiers have one live owner, stages never go back, counters equal rows, replays change nothing", async () => {
    let workspaces = 0;
    await fc.assert(
      fc.asyncProperty(arbRun, async (batches) => {
        const ws = await seedWorkspace(db.prisma, { name: `property run ${++workspaces}` });
        const highest = new Map<string, TFunnelStage>();
        let accepted = 0;
        for (const [b, batch] of batches.entries()) {
          const now = Date.now();
          const events = toInput(batch, ws, now, b);
          const result = await record(ws, events, batch.withSentAt ? { sentAt: new Date(now).toISOString() } : {});
          accepted += result.accepted;

          expect(result.events.map((e) => e.index)).toEqual(events.map((_, i) => i));
          expect(result.accepted + result.duplicates).toBe(events.length);
          expect(result.events.filter((e) => e.status === "duplicate")).toHaveLength(result.duplicates);
          expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
          const stages = await readStages(db.prisma, ws.workspace.id);
          expect(findStageRegressions(highest, stages)).toEqual([]);
          // The response names the live profile each event is on now, and that profile's stage.
          for (const e of result.events) {
            expect(stages.liveOf.get(e.profileId)).toBe(e.profileId);
            expect(stages.current.get(`${e.profileId}|${ws.funnel.id}`)).toBe(e.stage);
          }

          if (batch.replay) {
            const before = await snapshotIngestState(db.prisma, ws.workspace.id);
            const again = await record(ws, events, batch.withSentAt ? { sentAt: new Date(now).toISOString() } : {});
            expect(await snapshotIngestState(db.prisma, ws.workspace.id)).toEqual(before);
            expect(again).toMatchObject({ accepted: 0, duplicates: events.length });
            expect(again.events).toEqual(
              result.events.map(({ index, eventId, profileId, channel, stage }) => ({
                index,
                eventId,
                profileId,
                channel,
                stage,
                status: "duplicate",
              })),
            );
          }
        }
        expect(await db.prisma.trackingEvent.count({ where: { workspaceId: ws.workspace.id } })).toBe(accepted);
      }),
      { numRuns: 20 },
    );
  }, 180_000);
});
