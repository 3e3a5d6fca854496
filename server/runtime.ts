import type { Store } from "express-session";
import type { TConfig } from "./config.ts";
import { openDatabase, type TDatabase } from "./db/database.ts";
import { createLogger, type TLogger } from "./infra/logger.ts";
import { Metrics } from "./infra/metrics.ts";
import { createRateLimiters } from "./infra/rate-limiters.ts";
import { closeRedis, connectRedis, type TRedis } from "./infra/redis.ts";
import { createSessionStore } from "./http/session.ts";
import type { TDeps } from "./deps.ts";

export type TRuntime = { deps: TDeps; sessionStore: Store; redis?: TRedis; close(): Promise<void> };

/**
 * Builds the process-wide dependencies from config: the database (PostgreSQL or embedded
 * PGlite), Redis when configured, limiters and the session store on top of it.
 * `db`, `redis` and `keyPrefix` may be supplied (tests give each file its own database and prefix).
 */
export async function createRuntime(
  config: TConfig,
  opts: { db?: TDatabase; redis?: TRedis | null; logger?: TLogger; keyPrefix?: string } = {},
): Promise<TRuntime> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const db =
    opts.db ??
    (await openDatabase({
      databaseUrl: config.database.url,
      dataDir: config.database.dataDir,
      poolMax: config.database.poolMax,
      queryTimeoutMs: config.database.queryTimeoutMs,
      log: (line) => logger.info(line),
      // The process's own statement count: what a request costs in round trips, read from /metrics.
      onQuery: () => metrics.inc("db_statements_total", "SQL statements this process sent to the database."),
    }));
  let redis: TRedis | undefined;
  try {
    redis =
      opts.redis === undefined
        ? config.redis
          ? await connectRedis(config.redis.url, logger)
          : undefined
        : (opts.redis ?? undefined);
  } catch (err) {
    if (!opts.db) await db.close();
    throw err;
  }
  const prefix = opts.keyPrefix ?? config.redis?.keyPrefix ?? "";
  const deps: TDeps = { config, db, limiters: createRateLimiters(config, redis, prefix), logger, metrics };
  return {
    deps,
    sessionStore: createSessionStore(config, db, redis, prefix),
    redis,
    async close() {
      if (redis && opts.redis === undefined) await closeRedis(redis);
      if (!opts.db) await db.close();
    },
  };
}
