import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { WorkspaceRole } from "../../generated/prisma/client.ts";
import { loadConfig, type TConfig } from "../../server/config.ts";
import type { TDatabase } from "../../server/db/database.ts";
import { createApp } from "../../server/app.ts";
import { createLogger } from "../../server/infra/logger.ts";
import { withinStoreTimeout } from "../../server/infra/rate-limit.ts";
import { closeRedis, connectRedis, type TRedis } from "../../server/infra/redis.ts";
import { createRuntime, type TRuntime } from "../../server/runtime.ts";
import { seedWorkspace } from "./fixtures.ts";
import { createTestDatabase } from "./test-database.ts";

export type TTestAppOptions = {
  /** Environment overrides passed to loadConfig (on top of NODE_ENV=test, LOG_LEVEL=silent). */
  config?: Record<string, string>;
  /** Sees the text of every SQL statement the app's database pool sends. */
  onQuery?: (sql: string) => void;
  /** Redis to use instead of TEST_REDIS_URL (e.g. through a proxy a test can cut). */
  redisUrl?: string;
  /** Receives every log line the app writes (set LOG_LEVEL in `config` to see any). */
  onLogLine?: (line: string) => void;
};

export type TTestApp = Awaited<ReturnType<typeof startTestApp>>;

/**
 * The whole HTTP app on 127.0.0.1, a free port, over a fresh migrated database; with Redis
 * (sessions and limiters under a key prefix of its own) when TEST_REDIS_URL is set, in memory
 * otherwise. `close()` stops everything and deletes the app's Redis keys.
 */
export async function startTestApp(opts: TTestAppOptions = {}) {
  // /metrics on the app's port behind a token (`metricsText()`); `METRICS_TOKEN: ""` for none.
  const metricsToken = randomBytes(24).toString("hex");
  const config: TConfig = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    METRICS_TOKEN: metricsToken,
    METRICS_PORT: "off",
    ...opts.config,
  });
  const logger = opts.onLogLine
    ? createLogger(config.logLevel, {}, { write: opts.onLogLine })
    : createLogger(config.logLevel);
  const db: TDatabase = await createTestDatabase({ onQuery: opts.onQuery });
  const redisUrl = opts.redisUrl ?? process.env.TEST_REDIS_URL;
  const keyPrefix = `fse-test-${randomBytes(6).toString("hex")}:`;
  let redis: TRedis | undefined;
  let runtime: TRuntime;
  try {
    redis = redisUrl ? await connectRedis(redisUrl, logger) : undefined;
    runtime = await createRuntime(config, { db, redis: redis ?? null, logger, keyPrefix });
  } catch (err) {
    await redis?.close();
    await db.close();
    throw err;
  }
  const server = createApp({ ...runtime }).listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    config,
    runtime,
    db,
    redis,
    /** Prefix of every Redis key this app writes (sessions: `${keyPrefix}sess:`). */
    keyPrefix,

    /** GET /metrics with the app's token; throws unless 200. */
    async metricsText(): Promise<string> {
      const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${config.metrics.token}` } });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
      return res.text();
    },

    /** Logs in over REST and returns the `name=value` session cookie; throws unless 200. */
    async login(email: string, password: string): Promise<string> {
      const res = await fetch(`${baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      if (res.status !== 200) throw new Error(`login as ${email} answered ${res.status}: ${await res.text()}`);
      const cookie = sessionCookieOf(res, config.session.cookieName);
      if (!cookie) throw new Error("login set no session cookie");
      return cookie;
    },

    /** Owner (ADMIN), workspace, default funnel, site, and one user per extra role. */
    seedWorkspace(seed: { name?: string; domain?: string; roles?: WorkspaceRole[] } = {}) {
      return seedWorkspace(db.prisma, seed);
    },

    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
      if (redis?.isReady) await withinStoreTimeout(deleteKeys(redis, keyPrefix)).catch(() => undefined);
      if (redis) await closeRedis(redis);
      await db.close();
    },
  };
}

/** The `name=value` part of the session cookie a response sets, if any. */
export function sessionCookieOf(res: Response, cookieName = "fse.sid"): string | undefined {
  return res.headers
    .getSetCookie()
    .map((line) => line.split(";", 1)[0]!)
    .find((pair) => pair.startsWith(`${cookieName}=`) && pair.length > cookieName.length + 1);
}

async function deleteKeys(redis: TRedis, prefix: string): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) {
    if (keys.length > 0) await redis.del(keys);
  }
}

/** A REST error body (tRPC wraps the same in `{ error: … }`). */
export type TErrorBody = {
  message: string;
  code: string;
  data: {
    code: string;
    httpStatus: number;
    reason: string;
    issues: { path: (string | number)[]; code: string; message: string }[];
    requestId: string;
  };
};

/** A response's JSON body typed as the caller expects it (fetch types it as unknown); the assertions check it. */
export async function jsonOf<T = unknown>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
