import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { findInvariantViolations } from "../support/ingest-invariants.ts";
import { loginCookie, makeEvents, recordedCounts, sendBatch } from "../support/event-load.ts";
import type { TBatchTarget, TSentBatch, TTransport } from "../support/event-load.ts";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * Only in the PostgreSQL run (vitest.config.ts). The real server process records events from 4
 * clients (two over REST, two over tRPC) while the test terminates the server's backends that
 * sit `idle in transaction` (in the middle of a request's transaction) in this test's own
 * database, and nobody else's.
 */
const CLIENTS = 4;
const WANTED_KILLS = 10;
const MIN_REQUESTS = 200;
const LOAD_LIMIT_MS = 60_000;

/** Selected before any is terminated (MATERIALIZED), so the filter is not re-evaluated mid-way. */
const TERMINATE_IDLE_IN_TRANSACTION = `
  WITH victims AS MATERIALIZED (
    SELECT pid FROM pg_stat_activity
    WHERE datname = $1 AND state = 'idle in transaction' AND pid <> pg_backend_pid()
  )
  SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS killed FROM victims`;

let db: TDatabase;
let server: TServerProcess | undefined;
let seed: TSeededWorkspace;

beforeAll(async () => {
  db = await createTestDatabase();
  seed = await seedWorkspace(db.prisma);
});
afterAll(async () => {
  server?.kill();
  await db?.close();
});

async function killUntil(adminUrl: string, database: string, stop: () => boolean): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let killed = 0;
  try {
    while (!stop() && killed < WANTED_KILLS) {
      killed += (await admin.query<{ killed: number }>(TERMINATE_IDLE_IN_TRANSACTION, [database])).rows[0]!.killed;
      // Poll fast (a transaction is idle between statements for well under a millisecond), kill spaced out.
      await new Promise((r) => setTimeout(r, killed > 0 ? 100 : 5));
    }
  } finally {
    await admin.end();
  }
  return killed;
}

describe("PostgreSQL connections terminated in the middle of transactions", () => {
  const title = "fail only their own request (503, nothing half-written); the process keeps serving";
  it(title, { timeout: 180_000 }, async () => {
    server = startServerProcess({ DATABASE_URL: db.url, SERVER_EVENTS_RATE_LIMIT: "1000000", DATABASE_POOL_MAX: "4" });
    const baseUrl = await server.listening();
    const cookie = await loginCookie(baseUrl, seed.owner.email, seed.owner.password);
    const target: TBatchTarget = { baseUrl, cookie, workspaceId: seed.workspace.id, siteId: seed.site.id };

    const sent: (TSentBatch & { transport: TTransport })[] = [];
    let done = false;
    const started = Date.now();
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      const transport: TTransport = c % 2 ? "trpc" : "rest";
      while (!done && Date.now() - started < LOAD_LIMIT_MS) {
        sent.push({ transport, ...(await sendBatch(target, makeEvents(`c${c}`, 10), transport)) });
      }
    });
    const database = new URL(db.url).pathname.slice(1);
    const over = () => Date.now() - started > LOAD_LIMIT_MS || server!.child.exitCode !== null;
    const killed = await killUntil(process.env.TEST_DATABASE_URL!, database, over);
    while (sent.length < MIN_REQUESTS && !over()) await new Promise((r) => setTimeout(r, 100));
    done = true;
    await Promise.all(clients);

    expect(killed).toBeGreaterThan(0);
    expect(server.child.exitCode, server.output()).toBeNull();
    const failed = sent.filter((b) => b.status !== 200);
    // Every failure is the transient one, told to come back; never a 500, never a dropped connection.
    const retryAfter = stringMatching(/^[1-9]\d*$/);
    const unavailable = { status: 503, reason: "DATABASE_UNAVAILABLE", retryAfter };
    for (const b of failed) expect(b, server.output().slice(-4000)).toMatchObject(unavailable);
    // Which transport's requests get hit is chance; database-unreachable.pg.test.ts covers both for sure.
    expect(failed.length).toBeGreaterThan(0);

    // Each batch is all or nothing: recorded once (every event), or not at all.
    const counts = await recordedCounts(
      db.prisma,
      seed.site.id,
      sent.flatMap((b) => b.messageIds),
    );
    for (const b of sent) {
      const perEvent = b.messageIds.map((id) => counts.get(id));
      if (b.status === 200) expect(perEvent).toEqual(b.messageIds.map(() => 1));
      else expect(new Set(perEvent).size, `half-written batch ${JSON.stringify(perEvent)}`).toBe(1);
    }
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);

    // The process still serves, and retrying the failed batches records each event exactly once.
    for (const b of failed) {
      const events = b.messageIds.map((messageId, i) => ({ type: "retry", visitorId: `v_retry_${i}`, messageId }));
      const retry = await sendBatch(target, events);
      expect(retry.status).toBe(200);
    }
    const after = await recordedCounts(
      db.prisma,
      seed.site.id,
      sent.flatMap((b) => b.messageIds),
    );
    expect([...after.values()].filter((n) => n !== 1)).toEqual([]);
    expect(await findInvariantViolations(db.prisma, seed.workspace.id)).toEqual([]);
    console.info(
      `pg-terminate: ${sent.length} requests (${sent.length * 10} events), ${killed} backends terminated, ` +
        `${failed.length} answered 503, 0 lost, 0 doubled`,
    );
  });
});
