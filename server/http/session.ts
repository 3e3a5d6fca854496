import { createHmac, timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import session, { type SessionData, type Store } from "express-session";
import { RedisStore } from "connect-redis";
import type { TConfig } from "../config.ts";
import type { TDatabase } from "../db/database.ts";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { STORE_TIMEOUT_MS, startStoreTimer, storeUnavailable } from "../infra/rate-limit.ts";
import type { TRedis } from "../infra/redis.ts";
import type { TSessionHandle } from "../trpc/context.ts";
import { DatabaseSessionStore } from "./database-session-store.ts";

declare module "express-session" {
  interface SessionData {
    userId?: string;
    generation?: number;
  }
}

/**
 * Sessions in Redis (shared by every instance) when configured, else in the database's `sessions`
 * table (the embedded default), so a restart keeps everyone logged in.
 */
export function createSessionStore(
  config: TConfig,
  db: TDatabase,
  redis?: TRedis,
  prefix = config.redis?.keyPrefix ?? "",
): Store {
  if (!redis)
    return touchAtMostEvery(
      new DatabaseSessionStore(db, config.session.ttlSeconds),
      touchIntervalMs(config.session.ttlSeconds),
    );
  const store = new RedisStore({ client: redis, prefix: `${prefix}sess:`, ttl: config.session.ttlSeconds });
  return answerWithin(touchAtMostEvery(store, touchIntervalMs(config.session.ttlSeconds)), STORE_TIMEOUT_MS);
}

/** 1 % of the session lifetime, at most a minute: how much earlier an idle session may expire. */
export function touchIntervalMs(ttlSeconds: number): number {
  return Math.min(60_000, ttlSeconds * 10);
}

/**
 * express-session touches an unmodified session at the end of every request (for Redis: an
 * EXPIRE that resets the key's lifetime, and the response waits for it). A session used again
 * within `intervalMs` of its last touch by this process is not touched again: one Redis round
 * trip per request less, and its key may expire at most `intervalMs` earlier than it would have.
 * Remembered in two generations of `intervalMs` each, so memory holds only recent sessions.
 */
export function touchAtMostEvery<S extends Store>(store: S, intervalMs: number): S {
  const touch = store.touch?.bind(store);
  if (!touch || intervalMs <= 0) return store;
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  let generationStart = Date.now();
  // The typings omit it, but stores pass an error to the callback (express-session forwards it).
  store.touch = (sid: string, sess: SessionData, callback?: (err?: unknown) => void) => {
    const now = Date.now();
    if (now - generationStart >= intervalMs) {
      previous = current;
      current = new Map();
      generationStart = now;
    }
    const last = current.get(sid) ?? previous.get(sid);
    if (last !== undefined && now - last < intervalMs) return callback?.();
    touch(sid, sess, (err?: unknown) => {
      if (!err) current.set(sid, now);
      callback?.(err);
    });
  };
  return store;
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
  const inDatabase = store instanceof DatabaseSessionStore;
  return (req, res, next) =>
    mw(req, res, (err?: unknown) => {
      if (!err) return next();
      // Without Redis the sessions are in the database: its outage is told as what it is.
      const fromDatabase = inDatabase && isTransientDatabaseError(err);
      next(fromDatabase ? databaseUnavailable(err) : storeUnavailable("The session store", err));
    });
}

/**
 * The session id a cookie carries if this server signed it (express-session's `s:<id>.<mac>`,
 * HMAC-SHA256 with the session secret, base64 without padding), else null: a forged or foreign
 * cookie names no session of ours.
 */
export function signedSessionId(cookieHeader: string | undefined, cookieName: string, secret: string): string | null {
  const raw = cookieHeader
    ?.split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${cookieName}=`))
    ?.slice(cookieName.length + 1);
  if (!raw) return null;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return null;
  }
  const dot = value.lastIndexOf(".");
  if (!value.startsWith("s:") || dot < 3) return null;
  const sid = value.slice(2, dot);
  const mac = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(createHmac("sha256", secret).update(sid).digest("base64").replace(/=+$/, ""));
  return mac.length === expected.length && timingSafeEqual(mac, expected) ? sid : null;
}

/** The procedures' view of express-session: sign in regenerates the id (no fixation). */
export function sessionHandle(req: Request, res: Response, cookieName: string, secret: string): TSessionHandle {
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
    get ended() {
      // express-session gives a request whose cookie named no stored session a new id.
      if (req.session?.userId) return false;
      const sid = signedSessionId(req.headers.cookie, cookieName, secret);
      return sid !== null && sid !== req.sessionID;
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
