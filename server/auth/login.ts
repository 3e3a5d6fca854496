import type { PrismaClient } from "../../generated/prisma/client.ts";
import { DomainError } from "../errors/domain-error.ts";
import { blockedForSeconds, forgive, penalize } from "../infra/rate-limit.ts";
import type { TRateLimiters } from "../infra/rate-limiters.ts";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./passwords.ts";
import { findUserByEmail } from "./users.repo.ts";

/**
 * Checks a password login. Failures are counted per email and per client IP; while either is
 * over its budget the attempt is refused before the password is even checked (429).
 * Unknown emails cost the same scrypt as known ones, so timing does not reveal accounts.
 */
export async function authenticate(
  prisma: PrismaClient,
  limiters: Pick<TRateLimiters, "loginPerEmail" | "loginPerIp">,
  input: { email: string; password: string; ip: string },
) {
  const emailKey = input.email.trim().toLowerCase();
  const [emailWait, ipWait] = await Promise.all([
    blockedForSeconds(limiters.loginPerEmail, emailKey),
    blockedForSeconds(limiters.loginPerIp, input.ip),
  ]);
  const wait = Math.max(emailWait, ipWait);
  if (wait > 0) throw new DomainError("RATE_LIMITED", "Too many failed logins; try again later", [], wait);

  const user = await findUserByEmail(prisma, emailKey);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok) {
    await Promise.all([penalize(limiters.loginPerEmail, emailKey), penalize(limiters.loginPerIp, input.ip)]);
    throw new DomainError("INVALID_CREDENTIALS", "Email or password is incorrect");
  }
  await forgive(limiters.loginPerEmail, emailKey);
  return { id: user.id, email: user.email, name: user.name };
}
