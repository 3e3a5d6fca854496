import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppBehindDbProxy, type TAppBehindDbProxy } from "../support/app-behind-db-proxy.ts";
import { makeEvents, recordedCounts, sendBatch } from "../support/event-load.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * Only in the PostgreSQL run. The app reaches its database through a proxy the test cuts (open
 * connections reset, new ones refused): the database "restarts". Requests answer 503 with
 * Retry-After on both transports while it is away, and work again once it is back.
 */
let env: TAppBehindDbProxy;

beforeAll(async () => {
  env = await startAppBehindDbProxy();
});
afterAll(() => env?.close());

describe("when the database connection is lost (reset) and new ones are refused", () => {
  const title = "writes and reads answer 503 DATABASE_UNAVAILABLE + Retry-After on both transports, then recover";
  it(title, { timeout: 60_000 }, async () => {
    expect((await sendBatch(env.target, makeEvents("before", 3))).status).toBe(200);
    await env.proxy.cut();

    const down = [
      await sendBatch(env.target, makeEvents("down", 3), "rest"),
      await sendBatch(env.target, makeEvents("down", 3), "trpc"),
    ];
    const retryAfter = stringMatching(/^[1-9]\d*$/);
    const unavailable = { status: 503, reason: "DATABASE_UNAVAILABLE", retryAfter };
    for (const b of down) expect(b).toMatchObject(unavailable);
    const me = await fetch(`${env.target.baseUrl}/api/auth/me`, { headers: { cookie: env.target.cookie } });
    expect(me.status).toBe(503);
    expect(await me.json()).toMatchObject({ data: { reason: "DATABASE_UNAVAILABLE" } });
    expect((await fetch(`${env.target.baseUrl}/readyz`)).status).toBe(503);

    await env.proxy.restore();
    const readiness = async () => (await fetch(`${env.target.baseUrl}/readyz`)).status;
    await expect.poll(readiness, { timeout: 10_000, interval: 200 }).toBe(200);
    const messageIds = down.flatMap((b) => b.messageIds);
    const counts = await recordedCounts(env.owner.prisma, env.seed.site.id, messageIds);
    expect([...counts.values()]).toEqual(messageIds.map(() => 0));
    expect((await sendBatch(env.target, makeEvents("after", 3), "trpc")).status).toBe(200);
  });
});
