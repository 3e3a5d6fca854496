import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppBehindDbProxy, type TAppBehindDbProxy } from "../support/app-behind-db-proxy.ts";
import { makeEvents, recordedCounts, sendBatch } from "../support/event-load.ts";

/**
 * Only in the PostgreSQL run. The app reaches its database through a proxy the test freezes:
 * connections stay open but nothing comes back, as with a stuck server or a network that drops
 * packets without a reset. Without a deadline of its own the app would wait for TCP to give up
 * (minutes); with DATABASE_QUERY_TIMEOUT_MS it answers 503, drops those connections, and works
 * again with fresh ones once the database answers.
 */
const QUERY_TIMEOUT_MS = 1_000;
let env: TAppBehindDbProxy;

beforeAll(async () => {
  env = await startAppBehindDbProxy({ DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) });
});
afterAll(() => env?.close());

describe("when the database stops answering without closing anything", () => {
  it("requests answer 503 DATABASE_UNAVAILABLE on both transports instead of hanging, then recover", async () => {
    const warm = await Promise.all([1, 2, 3].map((i) => sendBatch(env.target, makeEvents(`warm-${i}`, 2))));
    expect(warm.map((b) => b.status)).toEqual([200, 200, 200]);
    env.proxy.freeze();

    // Each would wait for minutes without the deadline; vitest's 30 s test timeout would fail it.
    const frozen = await Promise.all([
      sendBatch(env.target, makeEvents("frozen-rest", 3), "rest"),
      sendBatch(env.target, makeEvents("frozen-trpc", 3), "trpc"),
    ]);
    for (const b of frozen) expect(b).toMatchObject({ status: 503, reason: "DATABASE_UNAVAILABLE" });
    expect((await fetch(`${env.target.baseUrl}/readyz`)).status).toBe(503);

    await env.proxy.restore();
    const readiness = async () => (await fetch(`${env.target.baseUrl}/readyz`)).status;
    await expect.poll(readiness, { timeout: 10_000, interval: 200 }).toBe(200);
    const after = await sendBatch(env.target, makeEvents("after", 3), "rest");
    expect(after.status).toBe(200);

    // Nothing half-written: the refused batches' events are not there, the later batch is whole.
    const refused = frozen.flatMap((b) => b.messageIds);
    const counts = await recordedCounts(env.owner.prisma, env.seed.site.id, [...refused, ...after.messageIds]);
    expect(refused.map((id) => counts.get(id))).toEqual(refused.map(() => 0));
    expect(after.messageIds.map((id) => counts.get(id))).toEqual(after.messageIds.map(() => 1));
  });
});
