import type { TMessageScope } from "../../db/enums.ts";
import { namedSql, sql, type TSqlTx } from "../../db/sql.ts";
import type { TFunnelStage } from "../stages.ts";
import type { TLockedState, TOwnerRow, TScope, TSite, TStoredEvent } from "./batch.types.ts";
import type { TIdentifier } from "./plan-profiles.ts";

/**
 * The ingest path's SQL: two round trips per request, BEGIN and COMMIT included, whatever the
 * number of events (arrays through `unnest`): one simple query with BEGIN, the site check with the
 * advisory locks and, as its own statement, the profile row locks with owners and duplicates (see
 * openBatch); then the write with the COMMIT (see writeBatch). (One more, findOwners, only when a
 * locked profile changed while the lock statement waited for it.) The lock statement, the write
 * and findOwners are prepared statements, so PostgreSQL parses them once per connection; the lock
 * statement also keeps one (generic) plan, and so does the write once the tables are known to be
 * large.
 * Statement boundaries are where they are for READ COMMITTED: a statement only sees what other
 * transactions committed before it started, so whatever must see the work of a lock's previous
 * holder runs in a statement after the one that took the lock.
 */
type Tx = TSqlTx;

/**
 * The site, if it belongs to the workspace, with its browser stage ceiling (trust.ts); with it,
 * the transaction's advisory locks (in the given sorted order, so two requests never deadlock).
 * The locks serialize requests about the same identifiers and messageIds; others do not wait. No
 * site: no locks taken.
 */
const siteAndLocks = (scope: TScope, sortedKeys: number[]) => sql`
    SELECT s.id, s.funnel_id AS "funnelId", s.domain, s.browser_stage_ceiling AS "browserStageCeiling",
      (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(${sortedKeys}::bigint[]) AS k) AS l) AS locks
    FROM tracking_sites s WHERE s.id = ${scope.siteId} AND s.workspace_id = ${scope.workspaceId}`;

/** The batch's messageIds and the namespace they are unique in (the door's, trust.ts). */
export type TMessageIds = { scope: TMessageScope; ids: string[] };

/**
 * Opens the batch in ONE round trip: BEGIN, the site check with the advisory locks, then (its own
 * statement, so its snapshot sees what the advisory locks' previous holders committed) the profile
 * row locks, owners and duplicates. Null when the site is not the workspace's.
 */
export async function openBatch(
  tx: Tx,
  scope: TScope,
  sortedKeys: number[],
  identifiers: TIdentifier[],
  messageIds: TMessageIds,
): Promise<{ site: TSite; locked: TLockedState } | null> {
  const [sites, lockRows] = await tx.together(
    siteAndLocks(scope, sortedKeys),
    lockStatement(scope, identifiers, messageIds),
  );
  const site = (sites as TSite[])[0];
  if (!site) return null;
  return {
    site: { id: site.id, funnelId: site.funnelId, domain: site.domain, browserStageCeiling: site.browserStageCeiling },
    locked: lockedState(lockRows as TLockRow[]),
  };
}

/**
 * Size every table the write statement joins must have on disk before that statement's plan is
 * cached. The planner sizes a table from its file even when it was never analyzed (PGlite has no
 * autovacuum), and from about this size on (some 8,000 rows) an index probe per row of the batch
 * is cheaper than a scan in its eyes, so the cached plan is an index plan and stays one as the
 * tables grow. Below it the statement is planned per call, which costs CPU but follows the tables.
 */
const CACHED_WRITE_PLAN_MIN_BYTES = 1024 * 1024;

/** The batch's (kind, value) pairs as two parallel arrays, the shape `unnest` takes. */
export const kinds = (ids: TIdentifier[]) => ids.map((i) => i.kind);
export const values = (ids: TIdentifier[]) => ids.map((i) => i.value);

type TLockRow = {
  tag: "locked" | "recorded" | "owner" | "stale" | "plan";
  profileId: string | null;
  messageId: string | null;
  id: string | null;
  channel: string | null;
  stage: TFunnelStage | null;
  kind: TIdentifier["kind"] | null;
  value: string | null;
  createdAt: Date | null;
  email: string | null;
};

/**
 * Locks the live profiles that own any of the batch's identifiers, in id order (so two lockers
 * never deadlock), finds the events already recorded under the batch's messageIds in its
 * namespace (never the other's: the public door must not learn of, nor shadow, a trusted id), and reads who
 * owns each identifier, with the owner's age and email (for merge decisions). The advisory locks
 * only cover the identifiers a request names; a profile is also reachable through its other
 * identifiers, so everything a request changes on an existing profile (a new email, a merge,
 * counters) must happen under this row lock.
 *
 * The owners are read from the statement's snapshot, taken before it waited for any row lock.
 * They are still true after the wait unless a locked profile was changed meanwhile — and every
 * change to a profile's identifiers (a new email, a merge either way) also updates the profile's
 * row, which gives it a new `xmin`. FOR UPDATE returns the newest version of a row it waited for,
 * so the statement compares the version it read with the version it locked: the same for every
 * owner, the owners stand; otherwise `owners` is null and findOwners reads them again.
 *
 * Its plan is cached (generic), so its shape leaves the planner no choice: every lookup is a
 * LATERAL subquery with LIMIT 1 on a unique key, driven by the parameter arrays — an index probe
 * per identifier or messageId whatever the planner believed the tables' sizes were when it
 * planned (the plain join it replaces became a scan of every profile once the tables grew past
 * the empty size it was planned at). Its last branch decides how the rest of the transaction is
 * planned (`set_config(..., true)` lasts until COMMIT): the write statement's joins on merges and
 * deltas are index plans only when the planner knows the tables are large, so it is planned per
 * call until they are (CACHED_WRITE_PLAN_MIN_BYTES), and cached from then on.
 */
const lockStatement = (scope: TScope, identifiers: TIdentifier[], messageIds: TMessageIds) =>
  namedSql("ingest_lock_profiles")`
    WITH site AS MATERIALIZED (SELECT s.id, s.funnel_id FROM tracking_sites s
      WHERE s.id = ${scope.siteId} AND s.workspace_id = ${scope.workspaceId}),
    owners AS MATERIALIZED (
      SELECT u.k AS kind, u.v AS value, o.profile_id, p.created_at, p.xmin::text AS seen, em.value AS email
      FROM unnest(${kinds(identifiers)}::text[], ${values(identifiers)}::text[]) AS u(k, v)
      CROSS JOIN LATERAL (SELECT i.profile_id FROM profile_identifiers i
        WHERE i.workspace_id = ${scope.workspaceId} AND i.kind = u.k::"IdentifierKind" AND i.value = u.v LIMIT 1) o
      CROSS JOIN LATERAL (SELECT p.created_at, p.xmin FROM profiles p WHERE p.id = o.profile_id LIMIT 1) p
      LEFT JOIN LATERAL (SELECT e.value FROM profile_identifiers e
        WHERE e.profile_id = o.profile_id AND e.kind = 'EMAIL' ORDER BY e.created_at, e.value LIMIT 1) em ON true),
    owner_ids AS MATERIALIZED (SELECT DISTINCT profile_id, seen FROM owners ORDER BY profile_id),
    locked AS MATERIALIZED (
      SELECT p.id, p.merged_into_id, p.xmin::text = owner_ids.seen AS unchanged FROM owner_ids
      CROSS JOIN LATERAL (SELECT p.id, p.merged_into_id, p.xmin FROM profiles p
        WHERE p.id = owner_ids.profile_id FOR UPDATE) p)
    SELECT 'locked' AS tag, id AS "profileId", NULL AS "messageId", NULL AS id, NULL AS channel, NULL AS stage,
      NULL AS kind, NULL AS value, NULL::timestamptz AS "createdAt", NULL AS email
    FROM locked WHERE merged_into_id IS NULL
    UNION ALL
    SELECT 'owner', profile_id, NULL, NULL, NULL, NULL, kind, value, created_at, email FROM owners
    UNION ALL
    SELECT 'stale', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    WHERE (SELECT count(*) FROM locked WHERE unchanged) <> (SELECT count(*) FROM owner_ids)
    UNION ALL
    SELECT 'recorded', p.live_id, e.message_id, e.id, e.channel::text, l.current_stage::text,
      NULL, NULL, NULL, NULL
    FROM site CROSS JOIN (SELECT DISTINCT unnest(${messageIds.ids}::text[])) AS m(message_id)
    CROSS JOIN LATERAL (SELECT e.message_id, e.id, e.profile_id, e.channel FROM tracking_events e
      WHERE e.site_id = site.id AND e.message_scope = ${messageIds.scope}::"MessageScope"
        AND e.message_id = m.message_id LIMIT 1) e
    CROSS JOIN LATERAL (SELECT COALESCE(p.merged_into_id, p.id) AS live_id FROM profiles p
      WHERE p.id = e.profile_id LIMIT 1) p
    LEFT JOIN LATERAL (SELECT l.current_stage FROM profile_funnel_links l
      WHERE l.profile_id = p.live_id AND l.funnel_id = site.funnel_id LIMIT 1) l ON true
    UNION ALL
    SELECT 'plan', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT set_config('plan_cache_mode', CASE WHEN LEAST(pg_relation_size('profiles'),
        pg_relation_size('profile_identifiers'), pg_relation_size('profile_events'),
        pg_relation_size('profile_funnel_links')) >= ${CACHED_WRITE_PLAN_MIN_BYTES}
      THEN 'force_generic_plan' ELSE 'force_custom_plan' END, true)) AS write_plan`;

function lockedState(rows: TLockRow[]): TLockedState {
  const lockedProfileIds = new Set<string>();
  const recorded: TStoredEvent[] = [];
  const owners: TOwnerRow[] = [];
  let stale = false;
  for (const r of rows) {
    if (r.tag === "locked" && r.profileId !== null) lockedProfileIds.add(r.profileId);
    else if (r.tag === "stale") stale = true;
    else if (r.tag === "owner" && r.profileId !== null && r.kind !== null && r.value !== null && r.createdAt) {
      owners.push({ kind: r.kind, value: r.value, profileId: r.profileId, createdAt: r.createdAt, email: r.email });
    } else if (r.tag === "recorded" && r.messageId !== null && r.id !== null && r.profileId !== null) {
      const stage = r.stage ?? "AWARENESS";
      recorded.push({ messageId: r.messageId, id: r.id, liveProfileId: r.profileId, channel: r.channel ?? "", stage });
    }
  }
  return { lockedProfileIds, recorded, owners: stale ? null : owners };
}

/**
 * Who owns the batch's identifiers, with each owner's age and email (for merge decisions), read
 * again when the lock statement's snapshot went stale. Run after openBatch: in
 * READ COMMITTED this statement then sees what the previous lock holders committed. Owners are
 * always live profiles, so with no profile locked there are none.
 */
export function findOwners(tx: Tx, workspaceId: string, identifiers: TIdentifier[]): Promise<TOwnerRow[]> {
  return tx.prepared("ingest_find_owners").rows<TOwnerRow>`
    SELECT u.k AS kind, u.v AS value, o.profile_id AS "profileId", p.created_at AS "createdAt", em.value AS email
    FROM unnest(${kinds(identifiers)}::text[], ${values(identifiers)}::text[]) AS u(k, v)
    CROSS JOIN LATERAL (SELECT i.profile_id FROM profile_identifiers i
      WHERE i.workspace_id = ${workspaceId} AND i.kind = u.k::"IdentifierKind" AND i.value = u.v LIMIT 1) o
    CROSS JOIN LATERAL (SELECT p.created_at FROM profiles p WHERE p.id = o.profile_id LIMIT 1) p
    LEFT JOIN LATERAL (SELECT e.value FROM profile_identifiers e
      WHERE e.profile_id = o.profile_id AND e.kind = 'EMAIL' ORDER BY e.created_at, e.value LIMIT 1) em ON true`;
}
