import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app.ts";
import { createRuntime } from "../../server/runtime.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { createWire, errorOf, okBody, TRANSPORTS, type TRecordInput, type TWire } from "../support/wire.ts";

/** Only in the run with TEST_REDIS_URL (vitest.config.ts): the limiter's counters live in Redis. */
const LIMIT = 3;
const WINDOW_SECONDS = 3600;

let app: TTestApp;
let wire: TWire;
/** A second instance of the service on the same database, Redis and key prefix: what a load balancer sees. */
let second: { baseUrl: string; close(): Promise<void> };

beforeAll(async () => {
  app = await startTestApp({
    config: { SERVER_EVENTS_RATE_LIMIT: String(LIMIT), SERVER_EVENTS_RATE_WINDOW_SECONDS: String(WINDOW_SECONDS) },
  });
  if (!app.redis) throw new Error("this file needs TEST_REDIS_URL");
  wire = createWire(app);
  const runtime = await createRuntime(app.config, { db: app.db, redis: app.redis, keyPrefix: app.keyPrefix });
  const server = createApp({ ...runtime }).listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  second = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
});
afterAll(async () => {
  await second?.close();
  await app?.close();
});

const uid = () => randomBytes(6).toString("hex");

async function freshOwner() {
  const seed = await app.seedWorkspace();
  const cookie = await app.login(seed.owner.email, seed.owner.password);
  const input = (): TRecordInput => ({
    workspaceId: seed.workspace.id,
    siteId: seed.site.id,
    events: [{ type: "signup", visitorId: `v_${uid()}` }],
  });
  return { seed, cookie, input };
}

describe.each(TRANSPORTS)("rate limit in Redis over %s", (transport) => {
  it("the limiter is Redis-backed: its counter is a key under the app's prefix, with the window as TTL", async () => {
    expect(app.runtime.deps.limiters.serverEvents).toBeInstanceOf(RateLimiterRedis);
    const { seed, cookie, input } = await freshOwner();
    await wire.record(transport, input(), { cookie });
    await wire.record(transport, input(), { cookie });

    const keys: string[] = [];
    for await (const batch of app.redis!.scanIterator({ MATCH: `${app.keyPrefix}rl:server-events*`, COUNT: 500 }))
      keys.push(...batch);
    const key = keys.find((k) => k.endsWith(seed.owner.id));
    expect(key, keys.join(", ")).toBe(`${app.keyPrefix}rl:server-events:${seed.owner.id}`);
    expect(await app.redis!.get(key!)).toBe("2");
    const ttl = await app.redis!.ttl(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW_SECONDS);
  });

  it("two instances share one budget per user (and the session)", async () => {
    const { cookie, input } = await freshOwner();
    const there = createWire(second);
    expect(okBody(await wire.record(transport, input(), { cookie })).accepted).toBe(1);
    const viaSecond = await there.record(transport, input(), { cookie });
    expect(okBody(viaSecond).accepted).toBe(1);
    expect(viaSecond.headers.get("ratelimit-remaining")).toBe(String(LIMIT - 2));
    expect(okBody(await wire.record(transport, input(), { cookie })).accepted).toBe(1);
    expect(errorOf(await there.record(transport, input(), { cookie }))).toMatchObject({
      status: 429,
      reason: "RATE_LIMITED",
    });
    expect(errorOf(await wire.record(transport, input(), { cookie }))).toMatchObject({
      status: 429,
      reason: "RATE_LIMITED",
    });
  });
});
