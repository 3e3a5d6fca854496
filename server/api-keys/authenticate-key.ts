import type { TDatabase } from "../db/database.ts";
import { DomainError } from "../errors/domain-error.ts";
import { consumePoint, refundPoint } from "../infra/rate-limit.ts";
import type { TRateLimiters } from "../infra/rate-limiters.ts";
import { findKeyBySecret, type TApiKeyPrincipal } from "./api-keys.ts";

const THROTTLED = "Too many failed API key attempts from this address; try again later";

/**
 * Authenticates `Authorization: Bearer ff_…`. Each attempt spends a point of the client IP's
 * failure budget BEFORE the key is checked (parallel guesses cannot all slip past), and a valid
 * key gives it back: the budget counts failures. Missing, malformed, unknown and revoked keys
 * answer 401 (INVALID_API_KEY, or API_KEY_REVOKED for a key that was valid once).
 */
export async function authenticateApiKey(
  db: TDatabase,
  limiters: Pick<TRateLimiters, "apiKeyFailuresPerIp">,
  input: { authorization: string | undefined; ip: string },
): Promise<TApiKeyPrincipal> {
  await consumePoint(limiters.apiKeyFailuresPerIp, input.ip, THROTTLED);
  const secret = /^Bearer +(\S+)\s*$/i.exec(input.authorization ?? "")?.[1];
  if (!secret) {
    throw new DomainError("INVALID_API_KEY", "Send an API key as Authorization: Bearer ff_…", [
      { path: ["Authorization"], code: "missing", message: "no Bearer API key" },
    ]);
  }
  const { key, revoked } = await findKeyBySecret(db, secret);
  if (revoked) throw new DomainError("API_KEY_REVOKED", "This API key has been revoked");
  if (!key) throw new DomainError("INVALID_API_KEY", "Unknown or malformed API key");
  await refundPoint(limiters.apiKeyFailuresPerIp, input.ip);
  return key;
}
