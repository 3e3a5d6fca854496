import type { TSqlTx } from "../db/sql.ts";
import type { TFunnelStage } from "./stages.ts";
import type { TIdentifier, TMerge } from "./resolve-profiles.ts";

/**
 * The ingest path's SQL: a constant number of set-based statements per request (arrays through
 * `unnest`), whatever the number of events. Every function takes the transaction client.
 */
type Tx = TSqlTx;

/** A unique constraint fired although the advisory locks should have prevented it: start over. */
export class IngestConflictError extends Error {
  override name = "IngestConflictError";
}

/** Serializes requests about the same identifiers (and messageIds); others do not wait. */
export async function lockKeys(tx: Tx, sortedKeys: string[]): Promise<void> {
  if (sortedKeys.length === 0) return;
  await tx.rows`SELECT count(*)::int AS n FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(${sortedKeys}::text[]::bigint[]) AS k) AS locked`;
}

export type TStoredEvent = { messageId: string; id: string; profileId: string; channel: string };

export function findRecordedMessages(tx: Tx, siteId: string, messageIds: string[]): Promise<TStoredEvent[]> {
  if (messageIds.length === 0) return Promise.resolve([]);
  return tx.rows<TStoredEvent>`
    SELECT message_id AS "messageId", id, profile_id AS "profileId", channel::text AS channel
    FROM tracking_events WHERE site_id = ${siteId} AND message_id = ANY(${messageIds}::text[])`;
}

/**
 * Locks the live profiles that own any of the batch's identifiers, in id order (so two lockers
 * never deadlock), and returns their ids. The advisory locks only cover the identifiers a request
 * names; a profile is also reachable through its other identifiers, so everything a request changes
 * on an existing profile (a new email, a merge, counters) must happen under this row lock.
 */
export async function lockOwningProfiles(tx: Tx, workspaceId: string, identifiers: TIdentifier[]): Promise<Set<string>> {
  if (identifiers.length === 0) return new Set();
  const rows = await tx.rows<{ id: string }>`
    SELECT p.id FROM profiles p
    WHERE p.merged_into_id IS NULL AND p.id IN (
      SELECT i.profile_id FROM profile_identifiers i
      WHERE i.workspace_id = ${workspaceId}
        AND (i.kind, i.value) IN (
          SELECT k::"IdentifierKind", v FROM unnest(${identifiers.map((i) => i.kind)}::text[], ${identifiers.map((i) => i.value)}::text[]) AS u(k, v)))
    ORDER BY p.id
    FOR UPDATE`;
  return new Set(rows.map((r) => r.id));
}

export type TOwnerRow = { kind: TIdentifier["kind"]; value: string; profileId: string; createdAt: Date; email: string | null };

/**
 * Who owns the batch's identifiers, with each owner's age and email (for merge decisions). Run it
 * after lockOwningProfiles: in READ COMMITTED this statement then sees what the previous lock
 * holders committed.
 */
export function findOwners(tx: Tx, workspaceId: string, identifiers: TIdentifier[]): Promise<TOwnerRow[]> {
  if (identifiers.length === 0) return Promise.resolve([]);
  return tx.rows<TOwnerRow>`
    SELECT i.kind::text AS kind, i.value, i.profile_id AS "profileId", p.created_at AS "createdAt",
      (SELECT e.value FROM profile_identifiers e
        WHERE e.profile_id = i.profile_id AND e.kind = 'EMAIL' ORDER BY e.created_at, e.value LIMIT 1) AS email
    FROM profile_identifiers i JOIN profiles p ON p.id = i.profile_id
    WHERE i.workspace_id = ${workspaceId}
      AND (i.kind, i.value) IN (
        SELECT k::"IdentifierKind", v FROM unnest(${identifiers.map((i) => i.kind)}::text[], ${identifiers.map((i) => i.value)}::text[]) AS u(k, v))`;
}

/**
 * Folds each loser into its survivor: counters added, first/last seen widened, identifiers,
 * timeline and funnel links moved (the higher stage kept), loser tombstoned (and anything
 * that pointed at it re-pointed), one audit row per merge.
 */
export async function applyMerges(tx: Tx, workspaceId: string, merges: (TMerge & { id: string; trackingEventId: string })[], now: Date): Promise<void> {
  if (merges.length === 0) return;
  const losers = merges.map((m) => m.loserId);
  const survivors = merges.map((m) => m.survivorId);
  await tx.count`
    UPDATE profiles s SET
      event_count = s.event_count + a.ec, server_event_count = s.server_event_count + a.sc, pageview_count = s.pageview_count + a.pc,
      first_seen_at = LEAST(s.first_seen_at, a.fs), last_seen_at = GREATEST(s.last_seen_at, a.ls)
    FROM (
      SELECT m.survivor, sum(p.event_count)::int AS ec, sum(p.server_event_count)::int AS sc, sum(p.pageview_count)::int AS pc,
        min(p.first_seen_at) AS fs, max(p.last_seen_at) AS ls
      FROM unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor) JOIN profiles p ON p.id = m.loser
      GROUP BY m.survivor) AS a
    WHERE s.id = a.survivor`;
  await tx.count`
    UPDATE profiles p SET merged_into_id = m.survivor, merged_at = ${now}
    FROM unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor)
    WHERE p.id = m.loser OR p.merged_into_id = m.loser`;
  await tx.count`
    UPDATE profile_identifiers i SET profile_id = m.survivor
    FROM unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor) WHERE i.profile_id = m.loser`;
  await tx.count`
    UPDATE profile_events e SET profile_id = m.survivor
    FROM unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor) WHERE e.profile_id = m.loser`;
  await tx.count`
    INSERT INTO profile_funnel_links AS l (profile_id, funnel_id, workspace_id, current_stage, stage_changed_at, event_count, first_seen_at, last_seen_at)
    SELECT m.survivor, o.funnel_id, min(o.workspace_id), max(o.current_stage),
      (array_agg(o.stage_changed_at ORDER BY o.current_stage DESC, o.stage_changed_at))[1],
      sum(o.event_count)::int, min(o.first_seen_at), max(o.last_seen_at)
    FROM profile_funnel_links o JOIN unnest(${losers}::text[], ${survivors}::text[]) AS m(loser, survivor) ON o.profile_id = m.loser
    GROUP BY m.survivor, o.funnel_id
    ON CONFLICT (profile_id, funnel_id) DO UPDATE SET
      current_stage = GREATEST(l.current_stage, EXCLUDED.current_stage),
      stage_changed_at = CASE WHEN EXCLUDED.current_stage > l.current_stage THEN EXCLUDED.stage_changed_at ELSE l.stage_changed_at END,
      event_count = l.event_count + EXCLUDED.event_count,
      first_seen_at = LEAST(l.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(l.last_seen_at, EXCLUDED.last_seen_at)`;
  await tx.count`DELETE FROM profile_funnel_links WHERE profile_id = ANY(${losers}::text[])`;
  await tx.count`
    INSERT INTO profile_merges (id, workspace_id, survivor_id, merged_id, identifier_kind, identifier_value, tracking_event_id, merged_at)
    SELECT id, ${workspaceId}, survivor, loser, kind::"IdentifierKind", value, event_id, ${now}
    FROM unnest(${merges.map((m) => m.id)}::text[], ${survivors}::text[], ${losers}::text[], ${merges.map((m) => m.cause.kind)}::text[],
      ${merges.map((m) => m.cause.value)}::text[], ${merges.map((m) => m.trackingEventId)}::text[]) AS u(id, survivor, loser, kind, value, event_id)`;
}

export type TNewProfile = { id: string; firstSeenAt: Date; lastSeenAt: Date };

export async function insertProfiles(tx: Tx, workspaceId: string, rows: TNewProfile[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  await tx.count`
    INSERT INTO profiles (id, workspace_id, first_seen_at, last_seen_at, created_at)
    SELECT id, ${workspaceId}, fs, ls, ${now}
    FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.firstSeenAt.toISOString())}::timestamptz[],
      ${rows.map((r) => r.lastSeenAt.toISOString())}::timestamptz[]) AS u(id, fs, ls)`;
}

/** New identifiers; one already taken means a concurrent writer slipped past the locks. */
export async function insertIdentifiers(tx: Tx, workspaceId: string, rows: (TIdentifier & { profileId: string })[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  const inserted = await tx.count`
    INSERT INTO profile_identifiers (workspace_id, kind, value, profile_id, created_at)
    SELECT ${workspaceId}, k::"IdentifierKind", v, p, ${now}
    FROM unnest(${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.value)}::text[], ${rows.map((r) => r.profileId)}::text[]) AS u(k, v, p)
    ON CONFLICT DO NOTHING`;
  if (inserted !== rows.length) throw new IngestConflictError("an identifier was claimed concurrently");
}

export type TEventRow = {
  id: string; type: string; visitorId: string | null; email: string | null; userId: string; profileId: string;
  path: string | null; referrer: string | null;
  utmSource: string | null; utmMedium: string | null; utmCampaign: string | null; utmTerm: string | null; utmContent: string | null;
  channel: string; channelRule: string; props: string | null; messageId: string | null; occurredAt: Date;
};

export async function insertTrackingEvents(tx: Tx, ctx: { workspaceId: string; siteId: string; receivedAt: Date }, rows: TEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof TEventRow>(k: K) => rows.map((r) => r[k]);
  const inserted = await tx.count`
    INSERT INTO tracking_events (id, workspace_id, site_id, source, type, visitor_id, email, user_id, profile_id, path, referrer,
      utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel, channel_rule, props, message_id, occurred_at, received_at)
    SELECT id, ${ctx.workspaceId}, ${ctx.siteId}, 'SERVER', type, visitor_id, email, user_id, profile_id, path, referrer,
      utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel::"Channel", channel_rule, props::jsonb, message_id, occurred_at, ${ctx.receivedAt}
    FROM unnest(${col("id")}::text[], ${col("type")}::text[], ${col("visitorId")}::text[], ${col("email")}::text[], ${col("userId")}::text[],
      ${col("profileId")}::text[], ${col("path")}::text[], ${col("referrer")}::text[], ${col("utmSource")}::text[], ${col("utmMedium")}::text[],
      ${col("utmCampaign")}::text[], ${col("utmTerm")}::text[], ${col("utmContent")}::text[], ${col("channel")}::text[], ${col("channelRule")}::text[],
      ${col("props")}::text[], ${col("messageId")}::text[], ${rows.map((r) => r.occurredAt.toISOString())}::timestamptz[])
      AS u(id, type, visitor_id, email, user_id, profile_id, path, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
        channel, channel_rule, props, message_id, occurred_at)
    ON CONFLICT (site_id, message_id) DO NOTHING`;
  if (inserted !== rows.length) throw new IngestConflictError("a messageId was recorded concurrently");
}

export type TTimelineRow = { id: string; profileId: string; trackingEventId: string | null; type: string; detail: string | null; occurredAt: Date };

export async function insertTimeline(tx: Tx, ctx: { workspaceId: string; funnelId: string; now: Date }, rows: TTimelineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.count`
    INSERT INTO profile_events (id, profile_id, workspace_id, funnel_id, tracking_event_id, type, detail, occurred_at, created_at)
    SELECT id, profile_id, ${ctx.workspaceId}, ${ctx.funnelId}, tracking_event_id, type, detail::jsonb, occurred_at, ${ctx.now}
    FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.profileId)}::text[], ${rows.map((r) => r.trackingEventId)}::text[],
      ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.detail)}::text[], ${rows.map((r) => r.occurredAt.toISOString())}::timestamptz[])
      AS u(id, profile_id, tracking_event_id, type, detail, occurred_at)`;
}

export type TLinkDelta = { profileId: string; stage: TFunnelStage; stageAt: Date; count: number; firstSeenAt: Date; lastSeenAt: Date };

/** Creates links at the batch's stage or advances existing ones, never backwards; returns the stage now. */
export function upsertFunnelLinks(tx: Tx, ctx: { workspaceId: string; funnelId: string }, rows: TLinkDelta[]): Promise<{ profileId: string; stage: TFunnelStage }[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return tx.rows<{ profileId: string; stage: TFunnelStage }>`
    INSERT INTO profile_funnel_links AS l (profile_id, funnel_id, workspace_id, current_stage, stage_changed_at, event_count, first_seen_at, last_seen_at)
    SELECT p, ${ctx.funnelId}, ${ctx.workspaceId}, s::"FunnelStage", sa, c, fs, ls
    FROM unnest(${rows.map((r) => r.profileId)}::text[], ${rows.map((r) => r.stage)}::text[], ${rows.map((r) => r.stageAt.toISOString())}::timestamptz[],
      ${rows.map((r) => r.count)}::int[], ${rows.map((r) => r.firstSeenAt.toISOString())}::timestamptz[], ${rows.map((r) => r.lastSeenAt.toISOString())}::timestamptz[])
      AS u(p, s, sa, c, fs, ls)
    ON CONFLICT (profile_id, funnel_id) DO UPDATE SET
      current_stage = GREATEST(l.current_stage, EXCLUDED.current_stage),
      stage_changed_at = CASE WHEN EXCLUDED.current_stage > l.current_stage THEN EXCLUDED.stage_changed_at ELSE l.stage_changed_at END,
      event_count = l.event_count + EXCLUDED.event_count,
      first_seen_at = LEAST(l.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(l.last_seen_at, EXCLUDED.last_seen_at)
    RETURNING profile_id AS "profileId", current_stage::text AS stage`;
}

export type TCounterDelta = { profileId: string; events: number; serverEvents: number; pageviews: number; firstSeenAt: Date; lastSeenAt: Date };

export async function addProfileCounters(tx: Tx, rows: TCounterDelta[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.count`
    UPDATE profiles p SET event_count = p.event_count + u.ec, server_event_count = p.server_event_count + u.sc, pageview_count = p.pageview_count + u.pc,
      first_seen_at = LEAST(p.first_seen_at, u.fs), last_seen_at = GREATEST(p.last_seen_at, u.ls)
    FROM unnest(${rows.map((r) => r.profileId)}::text[], ${rows.map((r) => r.events)}::int[], ${rows.map((r) => r.serverEvents)}::int[],
      ${rows.map((r) => r.pageviews)}::int[], ${rows.map((r) => r.firstSeenAt.toISOString())}::timestamptz[], ${rows.map((r) => r.lastSeenAt.toISOString())}::timestamptz[])
      AS u(id, ec, sc, pc, fs, ls)
    WHERE p.id = u.id`;
}

/** For duplicates: the live profile (through merges) and its stage in the funnel now. */
export function findLiveProfilesWithStage(tx: Tx, funnelId: string, profileIds: string[]): Promise<{ id: string; liveId: string; stage: TFunnelStage | null }[]> {
  if (profileIds.length === 0) return Promise.resolve([]);
  return tx.rows<{ id: string; liveId: string; stage: TFunnelStage | null }>`
    SELECT p.id, COALESCE(p.merged_into_id, p.id) AS "liveId", l.current_stage::text AS stage
    FROM profiles p LEFT JOIN profile_funnel_links l ON l.profile_id = COALESCE(p.merged_into_id, p.id) AND l.funnel_id = ${funnelId}
    WHERE p.id = ANY(${profileIds}::text[])`;
}
