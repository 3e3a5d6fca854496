import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { DomainError } from "../errors/domain-error.ts";

/** What the `RateLimit-*` headers report (draft-ietf-httpapi-ratelimit-headers). */
export type TRateLimitState = { limit: number; remaining: number; resetSeconds: number };

/** When the store (Redis) does not answer, callers are told to come back shortly: never a bypass. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * How long a request waits for the store. node-redis times out a command only while it waits to
 * be written: once sent to a Redis that stopped answering (stuck, or a partition that resets
 * nothing) it waits forever, and so would the request.
 */
export const STORE_TIMEOUT_MS = 1500;

export function storeUnavailable(what: string, cause: unknown): DomainError {
  const err = new DomainError(
    "SERVICE_UNAVAILABLE",
    `${what} is temporarily unavailable; retry shortly`,
    [],
    STORE_RETRY_AFTER_SECONDS,
  );
  err.cause = cause;
  return err;
}

/**
 * Calls `onTimeout` after `ms`, but only once the I/O already waiting has been handled. After the
 * event loop was blocked (a large body being parsed, say), due timers run before pending socket
 * reads: an answer that arrived in time would otherwise lose to its own deadline.
 */
export function startStoreTimer(ms: number, onTimeout: () => void): NodeJS.Timeout {
  return setTimeout(() => setImmediate(onTimeout), ms);
}

/** `promise`, or a rejection once the store has had STORE_TIMEOUT_MS to answer. */
export function withinStoreTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = startStoreTimer(STORE_TIMEOUT_MS, () => reject(new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Over budget: a RATE_LIMITED error that also carries the state for the `RateLimit-*` headers. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly rateLimit: TRateLimitState,
  ) {
    super("RATE_LIMITED", message, [], Math.max(1, rateLimit.resetSeconds));
  }
}

function stateOf(limiter: RateLimiterAbstract, res: RateLimiterRes): TRateLimitState {
  return {
    limit: limiter.points,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)),
  };
}

/** A store call with a deadline; a store failure becomes SERVICE_UNAVAILABLE, a limit verdict passes through. */
async function askStore<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await withinStoreTimeout(op());
  } catch (err) {
    if (err instanceof RateLimiterRes) throw err;
    throw storeUnavailable("The rate limiter", err);
  }
}

/**
 * Spends one point (or `points`). Resolves with the state for the headers; rejects with
 * RATE_LIMITED (carrying the state and Retry-After) when the budget is spent, or
 * SERVICE_UNAVAILABLE when the store fails.
 */
export async function consumePoint(
  limiter: RateLimiterAbstract,
  key: string,
  message?: string,
  points = 1,
): Promise<TRateLimitState> {
  const spent = await spendPoint(limiter, key, points);
  if (!spent.over) return spent.state;
  throw new RateLimitedError(
    message ?? `Rate limit of ${limiter.points} requests per ${limiter.duration} s exceeded`,
    spent.state,
  );
}

/**
 * Spends points and says whether that went over the budget, for callers that weigh several
 * budgets together; rejects only when the store fails (SERVICE_UNAVAILABLE). Points spent over
 * the budget still count, so hammering a spent budget does not refill it.
 */
export async function spendPoint(
  limiter: RateLimiterAbstract,
  key: string,
  points = 1,
): Promise<{ over: boolean; state: TRateLimitState }> {
  try {
    return { over: false, state: stateOf(limiter, await askStore(() => limiter.consume(key, points))) };
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { over: true, state: stateOf(limiter, err) };
  }
}

/** Gives back one point spent by `consumePoint`. */
export async function refundPoint(limiter: RateLimiterAbstract, key: string): Promise<void> {
  await askStore(() => limiter.reward(key, 1));
}

/** Forgets everything `key` has spent. */
export async function resetPoints(limiter: RateLimiterAbstract, key: string): Promise<void> {
  await askStore(() => limiter.delete(key));
}

/** The `RateLimit-*` headers of a limited operation, on whichever door answers it. */
export function setRateLimitHeaders(setHeader: (n: string, v: string) => void, s: TRateLimitState): void {
  setHeader("RateLimit-Limit", String(s.limit));
  setHeader("RateLimit-Remaining", String(s.remaining));
  setHeader("RateLimit-Reset", String(s.resetSeconds));
}
