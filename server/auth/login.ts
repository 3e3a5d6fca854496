import type { TDatabase } from "../db/database.ts";
import { DomainError } from "../errors/domain-error.ts";
import { RateLimitedError, refundPoint, resetPoints, spendPoint, type TRateLimitState } from "../infra/rate-limit.ts";
import type { TRateLimiters } from "../infra/rate-limiters.ts";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./passwords.ts";
import { findUserByEmail } from "./users.repo.ts";

const THROTTLED = "Too many failed logins; try again later";

type TLoginLimiters = Pick<TRateLimiters, "loginPerEmail" | "loginPerIp" | "loginPerEmailAndIp">;
type TSpent = Awaited<ReturnType<typeof spendPoint>>;

/**
 * Checks a password login, throttled without lockout. Each attempt spends a point per client IP,
 * per email, and per (email, IP) pair BEFORE the password is checked (so parallel guesses cannot
 * all slip past a check); a success gives them back and clears the pair. The password is not
 * checked (429 with Retry-After) when
 *   - the address is over its failures across all emails (LOGIN_MAX_FAILURES_PER_IP), or
 *   - the email is over its failures from all addresses (LOGIN_MAX_FAILURES_PER_EMAIL) AND this
 *     address already failed on this email within LOGIN_EMAIL_AND_IP_WINDOW_SECONDS.
 * So failures from other addresses never stop the right password from an address with none,
 * while a guesser gets the email's budget in all, plus one guess per address per pair window.
 * Unknown emails cost the same scrypt as known ones, so timing does not reveal accounts.
 */
export async function authenticate(
  db: TDatabase,
  limiters: TLoginLimiters,
  input: { email: string; password: string; ip: string },
) {
  const emailKey = input.email.trim().toLowerCase();
  // An address never contains a space, so the pair key cannot be read two ways.
  const pairKey = `${input.ip} ${emailKey}`;
  const [ip, email, pair] = await spendAll([
    spendPoint(limiters.loginPerIp, input.ip),
    spendPoint(limiters.loginPerEmail, emailKey),
    spendPoint(limiters.loginPerEmailAndIp, pairKey),
  ]);
  const refusal = refusalOf(ip, email, pair);
  if (refusal) throw new RateLimitedError(THROTTLED, refusal);

  const user = await findUserByEmail(db, emailKey);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok) throw new DomainError("INVALID_CREDENTIALS", "Email or password is incorrect");
  await Promise.all([
    resetPoints(limiters.loginPerEmailAndIp, pairKey),
    refundPoint(limiters.loginPerEmail, emailKey),
    refundPoint(limiters.loginPerIp, input.ip),
  ]);
  return { id: user.id, email: user.email, name: user.name, sessionGeneration: user.sessionGeneration };
}

/** All three spends, or the store's failure (SERVICE_UNAVAILABLE) once every one has settled. */
async function spendAll(spends: [Promise<TSpent>, Promise<TSpent>, Promise<TSpent>]) {
  const settled = await Promise.allSettled(spends);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<TSpent>).value) as [TSpent, TSpent, TSpent];
}

/**
 * Why the password is not checked, as the state of the budget that must recover first; undefined
 * when it is checked. A blocked email and pair lifts when either window ends.
 */
function refusalOf(ip: TSpent, email: TSpent, pair: TSpent): TRateLimitState | undefined {
  const emailAndPair = email.over && pair.over ? soonest(email.state, pair.state) : undefined;
  const ipState = ip.over ? ip.state : undefined;
  if (ipState && emailAndPair) return ipState.resetSeconds >= emailAndPair.resetSeconds ? ipState : emailAndPair;
  return ipState ?? emailAndPair;
}

function soonest(a: TRateLimitState, b: TRateLimitState): TRateLimitState {
  return a.resetSeconds <= b.resetSeconds ? a : b;
}
