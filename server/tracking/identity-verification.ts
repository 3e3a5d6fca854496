import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Identity verification of browser emails. A page can send any email, so by itself an email from
 * the browser proves nothing; a site that turns verification on accepts one only with an
 * HMAC-SHA256 of it, keyed with the site's secret, which only the customer's backend can compute.
 */

/** 32 random bytes as 64 hex characters; used as the HMAC key as it is (its UTF-8 text). */
export function newIdentitySecret(): string {
  return randomBytes(32).toString("hex");
}

/** The email as the event schema stores it: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Hex HMAC-SHA256 of the normalized email, keyed with the site's secret: what the customer's backend computes. */
export function emailHmac(secret: string, email: string): string {
  return createHmac("sha256", secret).update(normalizeEmail(email), "utf8").digest("hex");
}

export const EMAIL_HMAC_PATTERN = /^[0-9a-f]{64}$/;

/** Whether `hmac` is the email's HMAC under `secret`, compared in constant time; false when either is missing. */
export function verifyEmailHmac(secret: string | undefined, email: string, hmac: string | undefined): boolean {
  if (secret === undefined || hmac === undefined) return false;
  const given = hmac.trim().toLowerCase();
  if (!EMAIL_HMAC_PATTERN.test(given)) return false;
  return timingSafeEqual(Buffer.from(emailHmac(secret, email), "hex"), Buffer.from(given, "hex"));
}

type TVerifiable = { email?: string; emailHmac?: string; visitorId?: string };

/**
 * The events a site requiring verification records: an email without a valid HMAC is dropped
 * (the rest of the event stands), and an event left with no identity at all is not recorded.
 * `unverified` counts the emails dropped. `secret` undefined (none set, or unreadable) verifies nothing.
 */
export function withVerifiedEmails<E extends TVerifiable>(
  events: readonly E[],
  secret: string | undefined,
): { events: Omit<E, "emailHmac">[]; unverified: number } {
  let unverified = 0;
  const kept: Omit<E, "emailHmac">[] = [];
  for (const { emailHmac: hmac, ...event } of events) {
    if (event.email === undefined || verifyEmailHmac(secret, event.email, hmac)) {
      kept.push(event);
      continue;
    }
    unverified++;
    const { email: _dropped, ...rest } = event;
    // `email` is optional in every event type, so the event without it is still one.
    if (rest.visitorId !== undefined) kept.push(rest as Omit<E, "emailHmac">);
  }
  return { events: kept, unverified };
}

/** The events with any `emailHmac` left out: a site that does not require verification ignores it. */
export function withoutEmailHmacs<E extends TVerifiable>(events: readonly E[]): Omit<E, "emailHmac">[] {
  return events.map(({ emailHmac: _ignored, ...event }) => event);
}
