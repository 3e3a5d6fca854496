import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";

/**
 * Why the collect door recorded nothing (or less than it was sent), as counted per site:
 * - `bot`: a crawler's, a headless browser's or an HTTP library's User-Agent (tracking/bots.ts);
 * - `origin_refused`: the page's Origin is not the site's domain;
 * - `invalid`: the body broke the batch schema;
 * - `rate_limited`: too many visitors, emails or requests from one address or visitor;
 * - `unverified_email`: emails left out for want of a valid identity-verification HMAC (one per email).
 * Refusals before the site is known (the per-address limit, an unknown site id) count in /metrics only.
 */
export const COLLECT_REFUSAL_REASONS = [
  "bot",
  "origin_refused",
  "invalid",
  "rate_limited",
  "unverified_email",
] as const;

export type TCollectRefusalReason = (typeof COLLECT_REFUSAL_REASONS)[number];

/**
 * Adds `count` to the site's bucket of the current minute, in one statement. The database's
 * clock picks the minute, so every instance behind a load balancer adds to the same buckets.
 */
export async function countCollectRefusal(
  db: TDatabase,
  siteId: string,
  reason: TCollectRefusalReason,
  count = 1,
): Promise<void> {
  await preparedQuery(db, "count_collect_refusal").rows`
    INSERT INTO collect_refusals (site_id, reason, minute, count)
    VALUES (${siteId}, ${reason}, date_trunc('minute', now()), ${count})
    ON CONFLICT (site_id, reason, minute) DO UPDATE SET count = collect_refusals.count + EXCLUDED.count`;
}

export type TCollectRefusalCounts = { reason: TCollectRefusalReason; lastHour: number; last24Hours: number };

/**
 * The site's refusals of the last hour and the last 24 hours, by reason (reasons with none are
 * left out). The same statement prunes the site's buckets older than two days, which nothing reads.
 */
export async function collectRefusalCounts(db: TDatabase, siteId: string): Promise<TCollectRefusalCounts[]> {
  return preparedQuery(db, "collect_refusal_counts").rows<TCollectRefusalCounts>`
    WITH pruned AS (
      DELETE FROM collect_refusals WHERE site_id = ${siteId} AND minute < now() - interval '2 days'
    )
    SELECT reason,
           COALESCE(SUM(count) FILTER (WHERE minute >= date_trunc('minute', now()) - interval '59 minutes'), 0)::int
             AS "lastHour",
           SUM(count)::int AS "last24Hours"
    FROM collect_refusals
    WHERE site_id = ${siteId} AND minute >= date_trunc('minute', now()) - interval '1439 minutes'
    GROUP BY reason
    ORDER BY "last24Hours" DESC, reason`;
}
