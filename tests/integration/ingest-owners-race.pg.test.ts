import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import type { TRecordResult } from "../../server/tracking/recorded-event.schema.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { findInvariantViolations } from "../support/ingest-invariants.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * The lock statement reads who owns the batch's identifiers in the same statement that takes the
 * profiles' row locks, so from a snapshot taken before it waited for them. A profile changed by
 * the lock's previous holder must therefore be read again: these tests hold a profile's row lock
 * in a transaction of their own, change the profile there, and let the ingest wait for it.
 */
let db: TDatabase;
let blocker: pg.Client;
let statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ onQuery: (sql) => void statements.push(sql) });
  blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
});
afterAll(async () => {
  await blocker?.end();
  await db?.close();
});

function record(ws: TSeededWorkspace, events: { type: string; visitorId?: string; email?: string }[]) {
  const body = ZRecordServerEventsBody.parse({ siteId: ws.site.id, events });
  return ingestEvents(db, {
    workspaceId: ws.workspace.id,
    actor: { kind: "session", userId: ws.owner.id },
    body,
  });
}

async function profileOf(ws: TSeededWorkspace, kind: string, value: string): Promise<string> {
  const { rows } = await blocker.query<{ id: string }>(
    `SELECT profile_id AS id FROM profile_identifiers
     WHERE workspace_id = $1 AND kind = $2::"IdentifierKind" AND value = $3`,
    [ws.workspace.id, kind, value],
  );
  return rows[0]!.id;
}

/** Resolves once a backend of this database waits for a row lock (the ingest, behind the blocker). */
async function someoneWaitsForALock(): Promise<void> {
  const database = new URL(db.url).pathname.slice(1);
  for (let i = 0; i < 200; i++) {
    const { rows } = await blocker.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      [database],
    );
    if (rows.length) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the ingest never waited for the blocker's row lock");
}

/** Runs `change` in an open transaction holding `profileId`'s row lock, records meanwhile, then commits. */
async function recordWhileLocked(
  profileId: string,
  change: () => Promise<unknown>,
  recording: () => Promise<TRecordResult>,
): Promise<TRecordResult> {
  await blocker.query("BEGIN");
  await blocker.query("SELECT 1 FROM profiles WHERE id = $1 FOR UPDATE", [profileId]);
  await change();
  statements = [];
  const pending = recording();
  try {
    await someoneWaitsForALock();
  } finally {
    await blocker.query("COMMIT");
  }
  return pending;
}

describe("owners read while waiting for a profile's row lock", () => {
  it("an email added to the profile meanwhile is seen: the merge it forbids is refused", async () => {
    const ws = await seedWorkspace(db.prisma);
    await record(ws, [{ type: "pageview", visitorId: "v-quiet" }]);
    await record(ws, [{ type: "signup", visitorId: "v-other", email: "other@x.test" }]);
    const quiet = await profileOf(ws, "VISITOR", "v-quiet");
    const other = await profileOf(ws, "EMAIL", "other@x.test");

    // As the ingest would: the new email and the profile's row change in one transaction.
    const result = await recordWhileLocked(
      quiet,
      async () => {
        await blocker.query(
          `INSERT INTO profile_identifiers (workspace_id, kind, value, profile_id, created_at)
           VALUES ($1, 'EMAIL', 'quiet@x.test', $2, now())`,
          [ws.workspace.id, quiet],
        );
        await blocker.query("UPDATE profiles SET last_seen_at = last_seen_at WHERE id = $1", [quiet]);
      },
      () => record(ws, [{ type: "identify", visitorId: "v-quiet", email: "other@x.test" }]),
    );

    // Read from the snapshot before the wait, the quiet profile had no email and would have merged.
    const [event] = result.events;
    expect(event!.merged).toBeUndefined();
    expect(event!.mergeRefused?.reason).toBe("different_email");
    expect(new Set([event!.profileId, ...(event!.mergeRefused?.profileIds ?? [])])).toEqual(new Set([quiet, other]));
    // Two round trips and a third: the owners read again once the lock was held.
    expect(statements).toHaveLength(3);
    expect(await findInvariantViolations(db.prisma, ws.workspace.id)).toEqual([]);
  });

  it("a profile merged away meanwhile sends the request round again, onto the survivor", async () => {
    const ws = await seedWorkspace(db.prisma);
    await record(ws, [{ type: "pageview", visitorId: "v-loser" }]);
    await record(ws, [{ type: "signup", visitorId: "v-survivor", email: "survivor@x.test" }]);
    const loser = await profileOf(ws, "VISITOR", "v-loser");
    const survivor = await profileOf(ws, "VISITOR", "v-survivor");

    const result = await recordWhileLocked(
      loser,
      async () => {
        await blocker.query("UPDATE profile_identifiers SET profile_id = $2 WHERE profile_id = $1", [loser, survivor]);
        await blocker.query("UPDATE profiles SET merged_into_id = $2, merged_at = now() WHERE id = $1", [
          loser,
          survivor,
        ]);
      },
      () => record(ws, [{ type: "pageview", visitorId: "v-loser" }]),
    );

    expect(result.events[0]).toMatchObject({ status: "recorded", profileId: survivor });
  });

  it("a profile locked but not changed keeps the owners the lock statement read: no second look", async () => {
    const ws = await seedWorkspace(db.prisma);
    await record(ws, [{ type: "signup", visitorId: "v-held", email: "held@x.test" }]);
    const held = await profileOf(ws, "VISITOR", "v-held");

    const result = await recordWhileLocked(
      held,
      () => Promise.resolve(),
      () => record(ws, [{ type: "pageview", visitorId: "v-held" }]),
    );

    expect(result.events[0]).toMatchObject({ status: "recorded", profileId: held });
    expect(statements).toHaveLength(2);
  });
});
