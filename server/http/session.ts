import type { Request, RequestHandler, Response } from "express";
import session, { MemoryStore, type Store } from "express-session";
import { RedisStore } from "connect-redis";
import type { TConfig } from "../config.ts";
import { STORE_TIMEOUT_MS, startStoreTimer, storeUnavailable } from "../infra/rate-limit.ts";
import type { TRedis } from "../infra/redis.ts";
import type { TSessionHandle } from "../trpc/context.ts";

declare module "express-session" {
  interface SessionData {
    userId?: string;
    generation?: number;
  }
}

/** Sessions in Redis (shared by every instance) when configured, in memory for one embedded process. */
export function createSessionStore(config: TConfig, redis?: TRedis, prefix = config.redis?.keyPrefix ?? ""): Store {
  return redis
    ? answerWithin(
        new RedisStore({ client: redis, prefix: `${prefix}sess:`, ttl: config.session.ttlSeconds }),
        STORE_TIMEOUT_MS,
      )
    : new MemoryStore();
}

/**
 * express-session waits for the store's callback with no deadline: give every call one, so a
 * Redis that stops answering turns into a 503 instead of requests that hang.
 */
function answerWithin<S extends Store>(store: S, ms: number): S {
  for (const method of ["get", "set", "touch", "destroy"] as const) {
    const original = (store[method] as ((...args: unknown[]) => unknown) | undefined)?.bind(store);
    if (!original) continue;
    (store as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const callback: unknown = args.at(-1);
      if (typeof callback !== "function") return original(...args);
      const answer = callback as (...result: unknown[]) => void;
      let settled = false;
      const settle = (...result: unknown[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        answer(...result);
      };
      const timer = startStoreTimer(ms, () => settle(new Error(`session store: no answer within ${ms} ms`)));
      return original(...args.slice(0, -1), settle);
    };
  }
  return store;
}

/** express-session, with a store failure turned into a 503 instead of a 500 or a hang. */
export function sessionMiddleware(config: TConfig, store: Store): RequestHandler {
  const mw = session({
    name: config.session.cookieName,
    secret: config.session.secret,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: "lax",
      secure: config.session.secureCookie,
      maxAge: config.session.ttlSeconds * 1000,
      path: "/",
    },
  });
  return (req, res, next) =>
    mw(req, res, (err?: unknown) => (err ? next(storeUnavailable("The session store", err)) : next()));
}

/** The procedures' view of express-session: sign in regenerates the id (no fixation). */
export function sessionHandle(req: Request, res: Response, cookieName: string): TSessionHandle {
  const call = (fn: (cb: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) =>
      fn((err) => (err ? reject(storeUnavailable("The session store", err)) : resolve())),
    );
  return {
    get userId() {
      return req.session?.userId ?? null;
    },
    get generation() {
      return req.session?.generation ?? 0;
    },
    async signIn(userId, generation) {
      await call((cb) => req.session.regenerate(cb));
      req.session.userId = userId;
      req.session.generation = generation;
      await call((cb) => req.session.save(cb));
    },
    async signOut() {
      if (req.session) await call((cb) => req.session.destroy(cb));
      res.clearCookie(cookieName, { path: "/" });
    },
  };
}
