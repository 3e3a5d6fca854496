import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { TConfig } from "../config.ts";
import type { TRedis } from "./redis.ts";

export type TRateLimiters = {
  /** Requests to tracking.recordServerEvents per session user. */
  serverEvents: RateLimiterAbstract;
  /**
   * Failed logins per email, per client IP, and per (email, client IP) pair, against password
   * guessing without lockout: the rule is in server/auth/login.ts.
   */
  loginPerEmail: RateLimiterAbstract;
  loginPerIp: RateLimiterAbstract;
  loginPerEmailAndIp: RateLimiterAbstract;
  /** MCP tool calls per API key. */
  apiKey: RateLimiterAbstract;
  /** Failed API key attempts per client IP, against secret guessing. */
  apiKeyFailuresPerIp: RateLimiterAbstract;
  /**
   * Tracking snippet batches (POST /api/collect) per client IP, and per site and visitor id; and
   * identities (new profiles at most) per site and client IP.
   */
  collectPerIp: RateLimiterAbstract;
  collectPerVisitor: RateLimiterAbstract;
  collectIdentitiesPerIp: RateLimiterAbstract;
};

/**
 * Limiters live in Redis when it is configured, so every instance shares one budget per user;
 * in memory otherwise (one embedded process). No insurance limiter: when Redis is down a check
 * fails with an error (mapped to 503), never an unlimited bypass.
 */
export function createRateLimiters(
  config: TConfig,
  redis?: TRedis,
  prefix = config.redis?.keyPrefix ?? "",
): TRateLimiters {
  const make = (name: string, limit: { points: number; durationSeconds: number }): RateLimiterAbstract => {
    const opts = { keyPrefix: `${prefix}rl:${name}`, points: limit.points, duration: limit.durationSeconds };
    return redis
      ? new RateLimiterRedis({ ...opts, storeClient: redis, useRedisPackage: true })
      : new RateLimiterMemory(opts);
  };
  return {
    serverEvents: make("server-events", config.limits.serverEvents),
    loginPerEmail: make("login-email", config.limits.loginPerEmail),
    loginPerIp: make("login-ip", config.limits.loginPerIp),
    loginPerEmailAndIp: make("login-email-ip", config.limits.loginPerEmailAndIp),
    apiKey: make("api-key", config.limits.apiKey),
    apiKeyFailuresPerIp: make("api-key-fail-ip", config.limits.apiKeyFailuresPerIp),
    collectPerIp: make("collect-ip", config.collect.perIp),
    collectPerVisitor: make("collect-visitor", config.collect.perVisitor),
    collectIdentitiesPerIp: make("collect-identity-ip", config.collect.identitiesPerIp),
  };
}
