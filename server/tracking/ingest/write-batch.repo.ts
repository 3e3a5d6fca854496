import { namedSql, sqlFragment, sqlJoin, sqlText, type TSqlFragment, type TSqlTx } from "../../db/sql.ts";
import type { TFunnelStage } from "../stages.ts";
import type { TBatchWrite, TEventRow, TProfileDelta } from "./batch.types.ts";
import { kinds, values } from "./ingest.repo.ts";

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

/**
 * The event insert's per-event columns, one line a column: the row field it comes from, the
 * column, the element type of the array it travels in, and the cast to the column's type where
 * that differs. The insert's column list, its select list and its `unnest` arrays are generated
 * from this table, so they cannot fall out of line.
 */
const EVENT_COLUMNS: readonly { field: keyof TEventRow; column: string; type: string; cast?: string }[] = [
  { field: "id", column: "id", type: "text" },
  { field: "type", column: "type", type: "text" },
  { field: "visitorId", column: "visitor_id", type: "text" },
  { field: "email", column: "email", type: "text" },
  { field: "userId", column: "user_id", type: "text" },
  { field: "profileId", column: "profile_id", type: "text" },
  { field: "path", column: "path", type: "text" },
  { field: "referrer", column: "referrer", type: "text" },
  { field: "utmSource", column: "utm_source", type: "text" },
  { field: "utmMedium", column: "utm_medium", type: "text" },
  { field: "utmCampaign", column: "utm_campaign", type: "text" },
  { field: "utmTerm", column: "utm_term", type: "text" },
  { field: "utmContent", column: "utm_content", type: "text" },
  { field: "channel", column: "channel", type: "text", cast: '"Channel"' },
  { field: "channelRule", column: "channel_rule", type: "text" },
  { field: "props", column: "props", type: "text", cast: "jsonb" },
  { field: "messageId", column: "message_id", type: "text" },
  { field: "occurredAt", column: "occurred_at", type: "timestamptz" },
  { field: "recordedBy", column: "recorded_by", type: "text" },
];

const EVENT_INSERT_COLUMNS = sqlText(EVENT_COLUMNS.map((c) => c.column).join(", "));
const EVENT_SELECT_LIST = sqlText(EVENT_COLUMNS.map((c) => (c.cast ? `${c.column}::${c.cast}` : c.column)).join(", "));
const EVENT_ARRAYS = EVENT_COLUMNS.map((c) => ({ ...c, arrayCast: sqlText(`::${c.type}[]`) }));

/** The events as one array per column of EVENT_COLUMNS, in its order, each cast to its element type. */
function eventArrays(events: TEventRow[], iso: (dates: Date[]) => string[]): TSqlFragment {
  return sqlJoin(
    EVENT_ARRAYS.map((c) => {
      const column = events.map((r) => r[c.field]);
      const value = c.type === "timestamptz" ? iso(column as Date[]) : column;
      return sqlFragment`${value}${c.arrayCast}`;
    }),
    ", ",
  );
}

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
export async function writeBatch(tx: TSqlTx, w: TBatchWrite): Promise<Map<string, TFunnelStage>> {
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
      INSERT INTO tracking_events (workspace_id, site_id, source, message_scope, received_at, ${EVENT_INSERT_COLUMNS})
      SELECT ${w.workspaceId}, ${w.site.id}, ${w.source}::"EventSource", ${w.messageScope}::"MessageScope", ${w.now},
        ${EVENT_SELECT_LIST}
      FROM unnest(${eventArrays(w.events, iso)}) AS u(${EVENT_INSERT_COLUMNS})),
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
