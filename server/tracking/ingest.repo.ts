import type { TEventSource } from "../db/enums.ts";
import { namedSql, sql, type TSqlTx } from "../db/sql.ts";
import type { TIdentifier, TMerge } from "./resolve-profiles.ts";
import type { TFunnelStage } from "./stages.ts";

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

/** A profile the batch needs was merged away while the batch waited for its lock: start over. */
export class IngestConflictError extends Error {
  override name = "IngestConflictError";
}

export type TSite = { id: string; funnelId: string; domain: string };

/** The request's scope: the workspace acting and the site it names (not yet known to be the workspace's). */
export type TScope = { workspaceId: string; siteId: string };

/**
 * The site, if it belongs to the workspace; with it, the transaction's advisory locks (in the
 * given sorted order, so two requests never deadlock). The locks serialize requests about the
 * same identifiers and messageIds; others do not wait. No site: no locks taken.
 */
const siteAndLocks = (scope: TScope, sortedKeys: number[]) => sql`
    SELECT s.id, s.funnel_id AS "funnelId", s.domain,
      (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(${sortedKeys}::bigint[]) AS k) AS l) AS locks
    FROM tracking_sites s WHERE s.id = ${scope.siteId} AND s.workspace_id = ${scope.workspaceId}`;

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
  messageIds: string[],
): Promise<{ site: TSite; locked: TLockedState } | null> {
  const [sites, lockRows] = await tx.together(
    siteAndLocks(scope, sortedKeys),
    lockStatement(scope, identifiers, messageIds),
  );
  const site = (sites as TSite[])[0];
  if (!site) return null;
  return {
    site: { id: site.id, funnelId: site.funnelId, domain: site.domain },
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

/** An event already stored under a messageId, with its profile's live id and stage now. */
export type TStoredEvent = {
  messageId: string;
  id: string;
  liveProfileId: string;
  channel: string;
  stage: TFunnelStage;
};

/**
 * What the lock statement found: the live profiles it locked, the events already recorded under
 * the batch's messageIds, and who owns the batch's identifiers — `null` when a locked profile
 * changed while the statement waited for its lock (then findOwners must look again).
 */
export type TLockedState = { lockedProfileIds: Set<string>; recorded: TStoredEvent[]; owners: TOwnerRow[] | null };

export type TOwnerRow = {
  kind: TIdentifier["kind"];
  value: string;
  profileId: string;
  createdAt: Date;
  email: string | null;
};

/** The batch's (kind, value) pairs as two parallel arrays, the shape `unnest` takes. */
const kinds = (ids: TIdentifier[]) => ids.map((i) => i.kind);
const values = (ids: TIdentifier[]) => ids.map((i) => i.value);

/**
 * Dates as ISO text, each instant formatted once per batch: toISOString costs about half a
 * microsecond, and a batch's events, timeline rows and profile deltas share their instants.
 */
function isoFormatter(): (dates: Date[]) => string[] {
  const known = new Map<number, string>();
  return (dates) =>
    dates.map((d) => {
      const time = d.getTime();
      let text = known.get(time);
      if (text === undefined) known.set(time, (text = d.toISOString()));
      return text;
    });
}

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
 * never deadlock), finds the events already recorded under the batch's messageIds, and reads who
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
const lockStatement = (scope: TScope, identifiers: TIdentifier[], messageIds: string[]) =>
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
    FROM site CROSS JOIN (SELECT DISTINCT unnest(${messageIds}::text[])) AS m(message_id)
    CROSS JOIN LATERAL (SELECT e.message_id, e.id, e.profile_id, e.channel FROM tracking_events e
      WHERE e.site_id = site.id AND e.message_id = m.message_id LIMIT 1) e
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

/** What the batch adds to one profile: counters, time span, and the highest stage it reached (and when). */
export type TProfileDelta = {
  profileId: string;
  events: number;
  pageviews: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  stage: TFunnelStage;
  stageAt: Date;
};

export type TEventRow = {
  id: string;
  type: string;
  visitorId: string | null;
  email: string | null;
  userId: string | null;
  profileId: string;
  path: string | null;
  referrer: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  channel: string;
  channelRule: string;
  props: string | null;
  messageId: string | null;
  occurredAt: Date;
  /** Who recorded it: `user:<id>` (session) or `key:<id>` (API key). */
  recordedBy: string;
};

export type TTimelineRow = {
  id: string;
  profileId: string;
  trackingEventId: string | null;
  type: string;
  detail: string | null;
  occurredAt: Date;
};

export type TBatchWrite = {
  workspaceId: string;
  site: TSite;
  /** The request's one clock: received_at, created_at and merged_at. */
  now: Date;
  /** Where the batch's events come from: a backend (SERVER) or the tracking snippet (CLIENT). */
  source: TEventSource;
  /** Profiles to create; their delta is their whole history so far. */
  newProfiles: TProfileDelta[];
  /** Existing live profiles the batch touches. */
  touchedProfiles: TProfileDelta[];
  merges: (TMerge & { id: string; trackingEventId: string })[];
  identifiers: (TIdentifier & { profileId: string })[];
  events: TEventRow[];
  timeline: TTimelineRow[];
};

/** A list of profile deltas as the parallel arrays `unnest` takes. */
function deltaColumns(list: TProfileDelta[], iso: (dates: Date[]) => string[]) {
  return {
    ids: list.map((p) => p.profileId),
    events: list.map((p) => p.events),
    pageviews: list.map((p) => p.pageviews),
    first: iso(list.map((p) => p.firstSeenAt)),
    last: iso(list.map((p) => p.lastSeenAt)),
    stages: list.map((p) => p.stage),
    stageAts: iso(list.map((p) => p.stageAt)),
  };
}

/**
 * Writes the whole batch in ONE statement (data-modifying CTEs, one snapshot), each row written
 * once: new profiles are inserted with their counters; survivors get the batch's counters and
 * their losers' in one update; funnel links of losers and the batch are folded into one upsert per
 * (profile, funnel), the higher stage kept, ties going to the older row. Losers are tombstoned
 * (and tombstones that pointed at them re-pointed), their identifiers and timeline moved, one
 * audit row per merge. Returns each touched profile's stage in the site's funnel now.
 * It is the transaction's last statement and goes with the COMMIT in one round trip. An identifier
 * or messageId some other writer stored first (one that slipped past the advisory locks) fails the
 * statement with a unique violation: PostgreSQL then skips the COMMIT, nothing of the batch is
 * stored, and the transaction is run again (withTransactionRetry).
 * Long because it is one SQL statement on purpose: every part written as its own statement cost
 * a round trip, a parse and an executor start-up each (docs/performance-ingest.md).
 */
// eslint-disable-next-line max-lines-per-function -- one SQL statement on purpose, see above
export async function writeBatch(tx: Tx, w: TBatchWrite): Promise<Map<string, TFunnelStage>> {
  const col = <K extends keyof TEventRow>(k: K) => w.events.map((r) => r[k]);
  const iso = isoFormatter();
  const created = deltaColumns(w.newProfiles, iso);
  const touched = deltaColumns(w.touchedProfiles, iso);
  const all = deltaColumns([...w.newProfiles, ...w.touchedProfiles], iso);
  const losers = w.merges.map((m) => m.loserId);
  const survivors = w.merges.map((m) => m.survivorId);
  // server_event_count counts what backends sent: a CLIENT batch adds nothing to it.
  const serverShare = w.source === "SERVER" ? 1 : 0;
  const rows = (await tx.commitWith(namedSql("ingest_write_batch")`
    WITH m AS (SELECT * FROM unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor)),
    delta AS (
      SELECT id, sum(ec)::int AS ec, sum(sc)::int AS sc, sum(pc)::int AS pc, min(fs) AS fs, max(ls) AS ls FROM (
        SELECT id, ec, ec * ${serverShare}::int AS sc, pc, fs, ls
        FROM unnest(${touched.ids}::text[], ${touched.events}::int[], ${touched.pageviews}::int[],
          ${touched.first}::timestamptz[], ${touched.last}::timestamptz[]) AS t(id, ec, pc, fs, ls)
        UNION ALL
        SELECT m.survivor, p.event_count, p.server_event_count, p.pageview_count, p.first_seen_at, p.last_seen_at
        FROM m JOIN profiles p ON p.id = m.loser) AS d
      GROUP BY id),
    touched AS (
      UPDATE profiles p SET event_count = p.event_count + d.ec, server_event_count = p.server_event_count + d.sc,
        pageview_count = p.pageview_count + d.pc,
        first_seen_at = LEAST(p.first_seen_at, d.fs), last_seen_at = GREATEST(p.last_seen_at, d.ls)
      FROM delta d WHERE p.id = d.id),
    tombstoned AS (
      UPDATE profiles p SET merged_into_id = t.survivor, merged_at = ${w.now}
      FROM (SELECT loser AS id, survivor FROM m
        UNION ALL SELECT o.id, m.survivor FROM m JOIN profiles o ON o.merged_into_id = m.loser) AS t
      WHERE p.id = t.id),
    created AS (
      INSERT INTO profiles (id, workspace_id, first_seen_at, last_seen_at, event_count, server_event_count,
        pageview_count, created_at)
      SELECT id, ${w.workspaceId}, fs, ls, ec, ec * ${serverShare}::int, pc, ${w.now}
      FROM unnest(${created.ids}::text[], ${created.events}::int[], ${created.pageviews}::int[],
        ${created.first}::timestamptz[], ${created.last}::timestamptz[]) AS u(id, ec, pc, fs, ls)),
    moved_identifiers AS (
      UPDATE profile_identifiers i SET profile_id = m.survivor FROM m WHERE i.profile_id = m.loser),
    new_identifiers AS (
      INSERT INTO profile_identifiers (workspace_id, kind, value, profile_id, created_at)
      SELECT ${w.workspaceId}, k::"IdentifierKind", v, p, ${w.now}
      FROM unnest(${kinds(w.identifiers)}::text[], ${values(w.identifiers)}::text[],
        ${w.identifiers.map((r) => r.profileId)}::text[]) AS u(k, v, p)),
    moved_timeline AS (
      UPDATE profile_events e SET profile_id = m.survivor FROM m WHERE e.profile_id = m.loser),
    new_events AS (
      INSERT INTO tracking_events (id, workspace_id, site_id, source, type, visitor_id, email, user_id, profile_id,
        path, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel, channel_rule, props,
        message_id, occurred_at, received_at, recorded_by)
      SELECT id, ${w.workspaceId}, ${w.site.id}, ${w.source}::"EventSource", type, visitor_id, email, user_id,
        profile_id, path, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel::"Channel",
        channel_rule, props::jsonb, message_id, occurred_at, ${w.now}, recorded_by
      FROM unnest(${col("id")}::text[], ${col("type")}::text[], ${col("visitorId")}::text[], ${col("email")}::text[],
        ${col("userId")}::text[], ${col("profileId")}::text[], ${col("path")}::text[], ${col("referrer")}::text[],
        ${col("utmSource")}::text[], ${col("utmMedium")}::text[], ${col("utmCampaign")}::text[],
        ${col("utmTerm")}::text[], ${col("utmContent")}::text[], ${col("channel")}::text[],
        ${col("channelRule")}::text[], ${col("props")}::text[], ${col("messageId")}::text[],
        ${iso(col("occurredAt"))}::timestamptz[], ${col("recordedBy")}::text[])
        AS u(id, type, visitor_id, email, user_id, profile_id, path, referrer, utm_source, utm_medium, utm_campaign,
          utm_term, utm_content, channel, channel_rule, props, message_id, occurred_at, recorded_by)),
    new_timeline AS (
      INSERT INTO profile_events (id, profile_id, workspace_id, funnel_id, tracking_event_id, type, detail, occurred_at,
        created_at)
      SELECT id, profile_id, ${w.workspaceId}, ${w.site.funnelId}, tracking_event_id, type, detail::jsonb, occurred_at,
        ${w.now}
      FROM unnest(${w.timeline.map((r) => r.id)}::text[], ${w.timeline.map((r) => r.profileId)}::text[],
        ${w.timeline.map((r) => r.trackingEventId)}::text[], ${w.timeline.map((r) => r.type)}::text[],
        ${w.timeline.map((r) => r.detail)}::text[], ${iso(w.timeline.map((r) => r.occurredAt))}::timestamptz[])
        AS u(id, profile_id, tracking_event_id, type, detail, occurred_at)),
    audit AS (
      INSERT INTO profile_merges (id, workspace_id, survivor_id, merged_id, identifier_kind, identifier_value,
        tracking_event_id, merged_at)
      SELECT id, ${w.workspaceId}, survivor, loser, kind::"IdentifierKind", value, event_id, ${w.now}
      FROM unnest(${w.merges.map((m) => m.id)}::text[], ${survivors}::text[], ${losers}::text[],
        ${w.merges.map((m) => m.cause.kind)}::text[], ${w.merges.map((m) => m.cause.value)}::text[],
        ${w.merges.map((m) => m.trackingEventId)}::text[]) AS u(id, survivor, loser, kind, value, event_id)),
    link_parts AS (
      SELECT m.survivor AS profile_id, o.funnel_id, o.current_stage AS stage, o.stage_changed_at AS stage_at, 0 AS part,
        o.event_count AS n, o.first_seen_at AS fs, o.last_seen_at AS ls
      FROM m JOIN profile_funnel_links o ON o.profile_id = m.loser
      UNION ALL
      SELECT p, ${w.site.funnelId}, s::"FunnelStage", sa, 1, n, fs, ls
      FROM unnest(${all.ids}::text[], ${all.stages}::text[], ${all.stageAts}::timestamptz[], ${all.events}::int[],
        ${all.first}::timestamptz[], ${all.last}::timestamptz[]) AS u(p, s, sa, n, fs, ls)),
    links AS (
      INSERT INTO profile_funnel_links AS l (profile_id, funnel_id, workspace_id, current_stage, stage_changed_at,
        event_count, first_seen_at, last_seen_at)
      SELECT profile_id, funnel_id, ${w.workspaceId}, max(stage),
        (array_agg(stage_at ORDER BY stage DESC, part, stage_at))[1], sum(n)::int, min(fs), max(ls)
      FROM link_parts GROUP BY profile_id, funnel_id
      ON CONFLICT (profile_id, funnel_id) DO UPDATE SET
        current_stage = GREATEST(l.current_stage, EXCLUDED.current_stage),
        stage_changed_at = CASE WHEN EXCLUDED.current_stage > l.current_stage THEN EXCLUDED.stage_changed_at
          ELSE l.stage_changed_at END,
        event_count = l.event_count + EXCLUDED.event_count,
        first_seen_at = LEAST(l.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(l.last_seen_at, EXCLUDED.last_seen_at)
      RETURNING profile_id, funnel_id, current_stage),
    dropped_links AS (
      DELETE FROM profile_funnel_links WHERE profile_id IN (SELECT loser FROM m))
    SELECT profile_id AS "profileId", current_stage::text AS stage
    FROM links WHERE funnel_id = ${w.site.funnelId}`)) as { profileId: string; stage: TFunnelStage }[];
  return new Map(rows.map((r) => [r.profileId, r.stage]));
}
