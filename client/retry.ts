/** How a sender retries transient failures: bounded, exponential, jittered, and polite to `Retry-After`. */
export type TRetryPolicy = {
  /** Retries of one request after a transient failure (so at most `maxRetries + 1` attempts). */
  maxRetries: number;
  /** First backoff step; each retry doubles it. */
  baseDelayMs: number;
  /** Cap of one computed backoff wait. */
  maxDelayMs: number;
  /** Longest `Retry-After` the sender accepts; a longer one stops the run instead of hanging. */
  maxWaitMs: number;
};

export const DEFAULT_RETRY_POLICY: TRetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxWaitMs: 120_000,
};

/**
 * The wait before retry number `attempt + 1`: exponential up to the cap, with "equal jitter"
 * (half fixed, half random) so many senders that failed together do not come back together,
 * yet none retries immediately.
 */
export function backoffDelayMs(attempt: number, policy: TRetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** `Retry-After` as whole seconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

/** Worth retrying: the server was busy, limited or broken for a moment (the request may be resent safely). */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
