import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { createRuntime } from "../../server/runtime.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * Only in the run with TEST_REDIS_URL (vitest.config.ts): the app talks to Redis through a proxy
 * the test can break.
 */
const redisUrl = new URL(process.env.TEST_REDIS_URL!);
const QUICK_MS = 3000;

let app: TTestApp | undefined;
let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
afterEach(async () => {
  await app?.close();
  await proxy?.close();
  app = proxy = undefined;
});

async function appBehindProxy() {
  proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  app = await startTestApp({ redisUrl: `redis://127.0.0.1:${proxy.port}` });
  const seed: TSeededWorkspace = await app.seedWorkspace();
  const cookie = await app.login(seed.owner.email, seed.owner.password);
  expect((await fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie } })).status).toBe(200);
  return { app, proxy, seed, cookie };
}

/** A request that must answer 503 + Retry-After quickly: never a hang, never let through. */
async function expectUnavailable(request: Promise<Response>) {
  const started = Date.now();
  const res = await request;
  const elapsed = Date.now() - started;
  expect(res.status).toBe(503);
  expect(elapsed).toBeLessThan(QUICK_MS);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = await jsonOf<TErrorBody | { error: TErrorBody }>(res);
  const error = "error" in body ? body.error : body;
  expect(error.data.reason).toBe("SERVICE_UNAVAILABLE");
  expect(JSON.stringify(body)).not.toMatch(/"stack"|ECONNREFUSED|127\.0\.0\.1/);
}

describe.each([
  ["is down (connections reset, new ones refused)", "cut"],
  ["stops answering (connections stay open)", "freeze"],
] as const)("when Redis %s", (_label, failure) => {
  it(
    "requests that need the session answer 503 with Retry-After, quickly, on both transports",
    { timeout: 20_000 },
    async () => {
      const { app, proxy, cookie } = await appBehindProxy();
      if (failure === "cut") await proxy.cut();
      else proxy.freeze();
      const signal = () => AbortSignal.timeout(10_000);
      await expectUnavailable(fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie }, signal: signal() }));
      await expectUnavailable(fetch(`${app.baseUrl}/api/trpc/auth.me`, { headers: { cookie }, signal: signal() }));
    },
  );

  it("login answers 503 instead of skipping the password-guessing limits", { timeout: 20_000 }, async () => {
    const { app, proxy, seed } = await appBehindProxy();
    if (failure === "cut") await proxy.cut();
    else proxy.freeze();
    const res = fetch(`${app.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: seed.owner.email, password: seed.owner.password }),
      signal: AbortSignal.timeout(10_000),
    });
    await expectUnavailable(res);
  });

  it("/readyz reports Redis not ready", { timeout: 20_000 }, async () => {
    const { app, proxy } = await appBehindProxy();
    if (failure === "cut") await proxy.cut();
    else proxy.freeze();
    const started = Date.now();
    const res = await fetch(`${app.baseUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
    expect(Date.now() - started).toBeLessThan(QUICK_MS);
    expect(res.status).toBe(503);
    expect(await jsonOf(res)).toMatchObject({
      status: "not ready",
      checks: { database: "ok", redis: stringMatching(/^error/) },
    });
  });
});

describe("when Redis comes back", () => {
  it("sessions work again without restarting the app", { timeout: 20_000 }, async () => {
    const { app, proxy, cookie } = await appBehindProxy();
    await proxy.cut();
    expect((await fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie } })).status).toBe(503);
    await proxy.restore();
    await expect
      .poll(async () => (await fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie } })).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(200);
  });
});

describe("shutting down while Redis stops answering", () => {
  it("runtime.close() still finishes promptly", { timeout: 20_000 }, async () => {
    proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const db = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    const runtime = await createRuntime(config, { db, keyPrefix: "fse-test-shutdown:" });
    try {
      expect(runtime.redis?.isReady).toBe(true);
      proxy.freeze();
      void runtime.redis!.get("pending-forever").catch(() => undefined);
      const started = Date.now();
      await runtime.close();
      expect(Date.now() - started).toBeLessThan(QUICK_MS);
      expect(runtime.redis!.isOpen).toBe(false);
    } finally {
      await db.close();
    }
  });
});
