import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ownRedisServer } from "../support/redis-server.ts";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * The real server process, with REDIS_URL pointing at a port where no Redis runs yet (the test's
 * own redis-server, started later on that port). It must start and serve what needs no Redis,
 * answer 503 + Retry-After for what does, and recover by itself once Redis answers.
 */
let server: TServerProcess | undefined;
let redis: Awaited<ReturnType<typeof ownRedisServer>> | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  server?.kill();
  await redis?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const field = (text: string, name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)$`, "m").exec(text)?.[1];

describe("Redis unreachable at start-up", () => {
  const title = "starts anyway; /readyz and Redis-backed requests answer 503 until Redis is up, then recovers";
  it(title, { timeout: 240_000 }, async () => {
    redis = await ownRedisServer();
    dataDir = await mkdtemp(path.join(tmpdir(), "fse-redis-start-"));
    server = startServerProcess({ DATA_DIR: dataDir, REDIS_URL: redis.url });
    const baseUrl = await server.listening(150_000);
    await expect.poll(() => server!.output(), { timeout: 10_000 }).toMatch(/curl -b cookies\.txt/);
    const text = server.output();
    expect(text).toMatch(/redis not reachable at REDIS_URL/);
    const credentials = { email: field(text, "email"), password: field(text, "password") };
    const headers = { "content-type": "application/json" };
    const body = JSON.stringify(credentials);
    const login = () => fetch(`${baseUrl}/api/auth/login`, { method: "POST", headers, body });

    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: "ok", redis: stringMatching(/^error/) } });
    const refused = await login();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ data: { reason: "SERVICE_UNAVAILABLE" } });

    await redis.start();
    const upAt = Date.now();
    const readiness = async () => (await fetch(`${baseUrl}/readyz`)).status;
    await expect.poll(readiness, { timeout: 5_000, interval: 100 }).toBe(200);
    await expect.poll(async () => (await login()).status, { timeout: 5_000, interval: 100 }).toBe(200);
    console.info(`redis-down-at-start: recovered ${Date.now() - upAt} ms after Redis came up`);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});
