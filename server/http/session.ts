import type { Request, RequestHandler, Response } from "express";
import session, { MemoryStore, type Store } from "express-session";
import { RedisStore } from "connect-redis";
import type { TConfig } from "../config.ts";
import { storeUnavailable } from "../infra/rate-limit.ts";
import type { TRedis } from "../infra/redis.ts";
import type { TSessionHandle } from "../trpc/context.ts";

declare module "express-session" {
  interface SessionData {
    userId?: string;
  }
}

/** Sessions in Redis (shared by every instance) when configured, in memory for one embedded process. */
export function createSessionStore(config: TConfig, redis?: TRedis, prefix = config.redis?.keyPrefix ?? ""): Store {
  return redis ? new RedisStore({ client: redis, prefix: `${prefix}sess:`, ttl: config.session.ttlSeconds }) : new MemoryStore();
}

/** express-session, with a store failure turned into a 503 instead of a 500 or a hang. */
export function sessionMiddleware(config: TConfig, store: Store): RequestHandler {
  const mw = session({
    name: config.session.cookieName,
    secret: config.session.secret,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", secure: config.session.secureCookie, maxAge: config.session.ttlSeconds * 1000, path: "/" },
  });
  return (req, res, next) => mw(req, res, (err?: unknown) => (err ? next(storeUnavailable("The session store", err)) : next()));
}

/** The procedures' view of express-session: sign in regenerates the id (no fixation). */
export function sessionHandle(req: Request, res: Response, cookieName: string): TSessionHandle {
  const call = (fn: (cb: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => fn((err) => (err ? reject(storeUnavailable("The session store", err)) : resolve())));
  return {
    get userId() {
      return req.session?.userId ?? null;
    },
    async signIn(userId) {
      await call((cb) => req.session.regenerate(cb));
      req.session.userId = userId;
      await call((cb) => req.session.save(cb));
    },
    async signOut() {
      if (req.session) await call((cb) => req.session.destroy(cb));
      res.clearCookie(cookieName, { path: "/" });
    },
  };
}
