import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findInvariantViolations } from "../support/ingest-invariants.ts";
import { makeEvents, recordedCounts, sendBatch } from "../support/event-load.ts";
import type { TBatchTarget, TSentBatch, TTransport } from "../support/event-load.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { ownRedisServer } from "../support/redis-server.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * The app on its own redis-server (never the shared one), which the test kills (kill -9) and
 * starts again while 4 clients record events. Runs on either database backend.
 */
const CLIENTS = 4;
const DOWN_MS = 2000;
const RECOVERY_LIMIT_MS = 5000;

let redis: Awaited<ReturnType<typeof ownRedisServer>>;
let app: TTestApp;
let seed: TSeededWorkspace;
let target: TBatchTarget;
beforeAll(async () => {
  redis = await ownRedisServer();
  await redis.start();
  app = await startTestApp({ redisUrl: redis.url, config: { SERVER_EVENTS_RATE_LIMIT: "1000000" } });
  seed = await app.seedWorkspace();
  const cookie = await app.login(seed.owner.email, seed.owner.password);
  target = { baseUrl: app.baseUrl, cookie, workspaceId: seed.workspace.id, siteId: seed.site.id };
});
afterAll(async () => {
  await app?.close();
  await redis?.close();
});

/** `startedAt`/`at`: when the request was sent and when its answer came. */
type TTimedBatch = TSentBatch & { startedAt: number; at: number; transport: TTransport };

describe("Redis killed and restarted under load", () => {
  const title = "answers 503 + Retry-After while down, recovers within 5 s, writes nothing by halves";
  it(title, { timeout: 120_000 }, async () => {
    const sent: TTimedBatch[] = [];
    let done = false;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      const transport: TTransport = c % 2 ? "trpc" : "rest";
      while (!done) {
        const startedAt = Date.now();
        const batch = await sendBatch(target, makeEvents(`r${c}`, 5), transport);
        sent.push({ ...batch, startedAt, at: Date.now(), transport });
        if (batch.status === 503) await new Promise((r) => setTimeout(r, 50));
      }
    });
    const waitFor = async (ok: () => boolean) => {
      while (!ok()) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => sent.filter((b) => b.status === 200).length >= 8);
    await redis.kill();
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await redis.start();
    const restartedAt = Date.now();
    await waitFor(() => sent.some((b) => b.at > restartedAt && b.status === 200) || Date.now() - restartedAt > 20_000);
    const recoveredMs = (sent.find((b) => b.at > restartedAt && b.status === 200)?.at ?? Infinity) - restartedAt;
    await new Promise((r) => setTimeout(r, 500));
    done = true;
    await Promise.all(clients);

    const down = sent.filter((b) => b.startedAt > killedAt && b.at <= restartedAt);
    expect(down.length).toBeGreaterThan(0);
    const unavailable = { status: 503, reason: "SERVICE_UNAVAILABLE", retryAfter: stringMatching(/^[1-9]\d*$/) };
    for (const b of sent.filter((b) => b.status !== 200)) {
      expect(b).toMatchObject(unavailable);
    }
    expect(new Set(down.map((b) => `${b.transport} ${b.status}`))).toEqual(new Set(["rest 503", "trpc 503"]));
    expect(recoveredMs).toBeLessThan(RECOVERY_LIMIT_MS);

    const all = sent.flatMap((b) => b.messageIds);
    const counts = await recordedCounts(app.db.prisma, seed.site.id, all);
    for (const b of sent) {
      const perEvent = b.messageIds.map((id) => counts.get(id));
      expect(perEvent).toEqual(b.messageIds.map(() => (b.status === 200 ? 1 : 0)));
    }
    expect(await findInvariantViolations(app.db.prisma, seed.workspace.id)).toEqual([]);
    console.info(
      `redis-restart: ${sent.length} requests, Redis killed once for ${DOWN_MS} ms, ` +
        `${sent.filter((b) => b.status === 503).length} answered 503, ` +
        `recovered ${recoveredMs} ms after restart, 0 lost, 0 doubled`,
    );
  });
});
