import type { TConfig } from "./config.ts";
import type { TDatabase } from "./db/database.ts";
import type { TLogger } from "./infra/logger.ts";
import type { Metrics } from "./infra/metrics.ts";
import type { TRateLimiters } from "./infra/rate-limiters.ts";

/** Long-lived dependencies, built once per process (server/runtime.ts) and handed to every door. */
export type TDeps = {
  config: TConfig;
  db: TDatabase;
  limiters: TRateLimiters;
  logger: TLogger;
  metrics: Metrics;
};
