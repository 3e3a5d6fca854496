import { createDashboardClient } from "../../client/trpc-client.ts";
import { loadConfig, type TConfig } from "../../server/config.ts";
import type { TDatabase } from "../../server/db/database.ts";
import { createLogger } from "../../server/infra/logger.ts";
import { Metrics } from "../../server/infra/metrics.ts";
import { createRateLimiters } from "../../server/infra/rate-limiters.ts";
import type { TDeps } from "../../server/deps.ts";
import { createContextInner, type TSessionHandle } from "../../server/trpc/context.ts";
import { createCallerFactory } from "../../server/trpc/init.ts";
import { appRouter } from "../../server/trpc/router.ts";

/** The dashboard's typed tRPC client, pointed at a test app, optionally with a session cookie. */
export function trpcClient(app: { baseUrl: string }, cookie?: string) {
  return createDashboardClient({ baseUrl: app.baseUrl, cookie });
}

/** Process-wide deps for createCaller tests: the given database, in-memory limiters, silent logs. */
export function createTestDeps(db: TDatabase, env: Record<string, string> = {}): TDeps {
  const config: TConfig = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...env });
  return { config, db, limiters: createRateLimiters(config), logger: createLogger("silent"), metrics: new Metrics() };
}

/** A session kept in memory: what signIn/signOut did is visible to the test. */
export type TMemorySession = TSessionHandle & {
  userId: string | null;
  generation: number;
  signIns: number;
  signOuts: number;
};

export function createMemorySession(userId: string | null = null, generation = 0): TMemorySession {
  return {
    userId,
    generation,
    ended: false,
    signIns: 0,
    signOuts: 0,
    signIn(id, sessionGeneration) {
      this.userId = id;
      this.generation = sessionGeneration;
      this.signIns += 1;
      return Promise.resolve();
    },
    signOut() {
      this.userId = null;
      this.signOuts += 1;
      return Promise.resolve();
    },
  };
}

const createCaller = createCallerFactory(appRouter);

/**
 * Calls procedures without HTTP, as tRPC's own tests do: `caller.auth.me()`. The context is the
 * real inner one; the session lives in memory (`userId` logs a user in) and the headers a
 * procedure sets land in `headers` (lower-cased names).
 */
export function createTestCaller(opts: {
  deps: TDeps;
  userId?: string | null;
  session?: TMemorySession;
  ip?: string;
  requestId?: string;
}) {
  const session = opts.session ?? createMemorySession(opts.userId ?? null);
  const headers = new Map<string, string>();
  const ctx = createContextInner(opts.deps, {
    requestId: opts.requestId ?? "req_test",
    ip: opts.ip ?? "127.0.0.1",
    session,
    setHeader: (name, value) => void headers.set(name.toLowerCase(), value),
  });
  return { caller: createCaller(ctx), ctx, session, headers };
}
