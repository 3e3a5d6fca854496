import type { TDatabase } from "../db/database.ts";
import { DomainError } from "../errors/domain-error.ts";
import { consumePoint, RateLimitedError, refundPoint, resetPoints } from "../infra/rate-limit.ts";
import type { TRateLimiters } from "../infra/rate-limiters.ts";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./passwords.ts";
import { findUserByEmail } from "./users.repo.ts";

const THROTTLED = "Too many failed logins; try again later";

/**
 * Checks a password login. Every attempt spends a point per email and per client IP BEFORE the
 * password is checked (so parallel guesses cannot all slip past a check), and a success gives
 * them back: the budgets count failures. Over either budget the answer is 429 with Retry-After.
 * Unknown emails cost the same scrypt as known ones, so timing does not reveal accounts.
 */
export async function authenticate(
  db: TDatabase,
  limiters: Pick<TRateLimiters, "loginPerEmail" | "loginPerIp">,
  input: { email: string; password: string; ip: string },
) {
  const emailKey = input.email.trim().toLowerCase();
  const spent = await Promise.allSettled([
    consumePoint(limiters.loginPerEmail, emailKey, THROTTLED),
    consumePoint(limiters.loginPerIp, input.ip, THROTTLED),
  ]);
  const refusals = spent.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (refusals.length) {
    // A store failure (503) outranks a limit; between two limits, the longer wait holds.
    const waitOf = (e: unknown) => (e instanceof RateLimitedError ? (e.retryAfterSeconds ?? 0) : Infinity);
    throw refusals.reduce((a, b) => (waitOf(b) > waitOf(a) ? b : a));
  }

  const user = await findUserByEmail(db, emailKey);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok) throw new DomainError("INVALID_CREDENTIALS", "Email or password is incorrect");
  await Promise.all([resetPoints(limiters.loginPerEmail, emailKey), refundPoint(limiters.loginPerIp, input.ip)]);
  return { id: user.id, email: user.email, name: user.name, sessionGeneration: user.sessionGeneration };
}
