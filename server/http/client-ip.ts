import type { Request } from "express";

/**
 * The client's address, as `TRUST_PROXY` lets express read it, for rate-limit keys and logs.
 * Every request without one shares the key "unknown", so it is limited rather than let through.
 */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}
