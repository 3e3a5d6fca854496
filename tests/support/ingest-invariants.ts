import type { PrismaClient } from "../../generated/prisma/client.ts";
import { FUNNEL_STAGES, maxStage, stageForEvent, type TFunnelStage } from "../../server/tracking/stages.ts";

/**
 * What must hold after any sequence of recordServerEvents calls in one workspace, checked with
 * SQL on the stored rows. Returns the violations (empty when all hold), so a failing test shows
 * exactly which rows are wrong.
 */
export async function findInvariantViolations(prisma: PrismaClient, workspaceId: string): Promise<string[]> {
  const violations: string[] = [];
  const report = (what: string, rows: unknown[]) => {
    if (rows.length > 0) violations.push(`${what}: ${JSON.stringify(rows, bigintToNumber)}`);
  };

  // The primary key (workspace, kind, value) makes the owner unique; it must also be a LIVE profile.
  report(
    "identifier not owned by a live profile",
    await prisma.$queryRaw`
    SELECT i.kind::text, i.value, i.profile_id, p.merged_into_id
    FROM profile_identifiers i LEFT JOIN profiles p ON p.id = i.profile_id
    WHERE i.workspace_id = ${workspaceId}
      AND (p.id IS NULL OR p.merged_into_id IS NOT NULL OR p.workspace_id <> i.workspace_id)`,
  );
  report(
    "live profile with two emails",
    await prisma.$queryRaw`
    SELECT profile_id, array_agg(value ORDER BY value) AS emails FROM profile_identifiers
    WHERE workspace_id = ${workspaceId} AND kind = 'EMAIL' GROUP BY profile_id HAVING count(*) > 1`,
  );
  report(
    "tombstone pointing at a tombstone or nothing",
    await prisma.$queryRaw`
    SELECT p.id, p.merged_into_id FROM profiles p LEFT JOIN profiles s ON s.id = p.merged_into_id
    WHERE p.workspace_id = ${workspaceId} AND p.merged_into_id IS NOT NULL
      AND (s.id IS NULL OR s.merged_into_id IS NOT NULL)`,
  );
  report(
    "timeline entry or funnel link on a tombstone",
    await prisma.$queryRaw`
    SELECT 'event' AS what, e.id, e.profile_id FROM profile_events e JOIN profiles p ON p.id = e.profile_id
    WHERE e.workspace_id = ${workspaceId} AND p.merged_into_id IS NOT NULL
    UNION ALL
    SELECT 'link', l.funnel_id, l.profile_id FROM profile_funnel_links l JOIN profiles p ON p.id = l.profile_id
    WHERE l.workspace_id = ${workspaceId} AND p.merged_into_id IS NOT NULL`,
  );
  report(
    "tracking event without a profile or timeline entry",
    await prisma.$queryRaw`
    SELECT t.id, t.profile_id FROM tracking_events t LEFT JOIN profiles p ON p.id = t.profile_id
    LEFT JOIN profile_events e ON e.tracking_event_id = t.id
    WHERE t.workspace_id = ${workspaceId} AND (p.id IS NULL OR e.id IS NULL)`,
  );
  report(
    "timeline entry on another profile than its tracking event's (live) profile",
    await prisma.$queryRaw`
    SELECT e.id, e.profile_id, t.profile_id AS tracked_on
    FROM profile_events e JOIN tracking_events t ON t.id = e.tracking_event_id
    JOIN profiles p ON p.id = t.profile_id
    WHERE e.workspace_id = ${workspaceId} AND e.profile_id <> COALESCE(p.merged_into_id, p.id)`,
  );

  // Counters equal the counted rows: timeline entries on the profile, and tracking events on it or
  // on the profiles merged into it (server_event_count: those a backend sent, source SERVER).
  report(
    "profile counters differ from the rows",
    await prisma.$queryRaw`
    SELECT * FROM (
      SELECT p.id, p.event_count, p.server_event_count, p.pageview_count,
        (SELECT count(*) FROM profile_events e WHERE e.profile_id = p.id AND e.type <> '$merge') AS timeline,
        (SELECT count(*) FROM tracking_events t JOIN profiles q ON q.id = t.profile_id
          WHERE q.id = p.id OR q.merged_into_id = p.id) AS tracked,
        (SELECT count(*) FROM tracking_events t JOIN profiles q ON q.id = t.profile_id
          WHERE (q.id = p.id OR q.merged_into_id = p.id) AND t.source = 'SERVER') AS server_tracked,
        (SELECT count(*) FROM tracking_events t JOIN profiles q ON q.id = t.profile_id
          WHERE (q.id = p.id OR q.merged_into_id = p.id) AND t.type = 'pageview') AS pageviews
      FROM profiles p WHERE p.workspace_id = ${workspaceId} AND p.merged_into_id IS NULL) AS c
    WHERE event_count <> timeline OR event_count <> tracked OR server_event_count <> server_tracked
      OR pageview_count <> pageviews`,
  );
  report(
    "funnel link counters differ from the rows",
    await prisma.$queryRaw`
    SELECT * FROM (
      SELECT l.profile_id, l.funnel_id, l.event_count,
        (SELECT count(*) FROM profile_events e
          WHERE e.profile_id = l.profile_id AND e.funnel_id = l.funnel_id AND e.type <> '$merge') AS timeline,
        (SELECT count(*) FROM tracking_events t JOIN profiles q ON q.id = t.profile_id
          JOIN tracking_sites s ON s.id = t.site_id
          WHERE (q.id = l.profile_id OR q.merged_into_id = l.profile_id) AND s.funnel_id = l.funnel_id) AS tracked
      FROM profile_funnel_links l WHERE l.workspace_id = ${workspaceId}) AS c
    WHERE event_count <> timeline OR event_count <> tracked`,
  );
  report(
    "first/last seen differ from the events' times",
    await prisma.$queryRaw`
    SELECT * FROM (
      SELECT 'profile' AS what, p.id, NULL AS funnel_id, p.first_seen_at, p.last_seen_at,
        min(t.occurred_at) AS first, max(t.occurred_at) AS last
      FROM profiles p JOIN profiles q ON q.id = p.id OR q.merged_into_id = p.id
      JOIN tracking_events t ON t.profile_id = q.id
      WHERE p.workspace_id = ${workspaceId} AND p.merged_into_id IS NULL GROUP BY p.id
      UNION ALL
      SELECT 'link', l.profile_id, l.funnel_id, l.first_seen_at, l.last_seen_at, min(t.occurred_at), max(t.occurred_at)
      FROM profile_funnel_links l JOIN profiles q ON q.id = l.profile_id OR q.merged_into_id = l.profile_id
      JOIN tracking_events t ON t.profile_id = q.id
      JOIN tracking_sites s ON s.id = t.site_id AND s.funnel_id = l.funnel_id
      WHERE l.workspace_id = ${workspaceId} GROUP BY l.profile_id, l.funnel_id) AS c
    WHERE first_seen_at <> first OR last_seen_at <> last`,
  );
  report(
    "live profile with events but no funnel link",
    await prisma.$queryRaw`
    SELECT DISTINCT e.profile_id, e.funnel_id FROM profile_events e
    LEFT JOIN profile_funnel_links l ON l.profile_id = e.profile_id AND l.funnel_id = e.funnel_id
    WHERE e.workspace_id = ${workspaceId} AND e.type <> '$merge' AND l.profile_id IS NULL`,
  );
  report(
    "merge audit row that does not match the tombstone",
    await prisma.$queryRaw`
    SELECT m.id, m.survivor_id, m.merged_id
    FROM profile_merges m JOIN profiles l ON l.id = m.merged_id JOIN profiles s ON s.id = m.survivor_id
    WHERE m.workspace_id = ${workspaceId} AND (l.merged_into_id IS NULL OR s.created_at > l.created_at)`,
  );

  // The stage of a link is the highest stage any of its events implies: never lower, never higher.
  const timeline = await prisma.$queryRaw<{ profileId: string; funnelId: string; type: string }[]>`
    SELECT profile_id AS "profileId", funnel_id AS "funnelId", type
    FROM profile_events WHERE workspace_id = ${workspaceId} AND type <> '$merge'`;
  const implied = new Map<string, TFunnelStage>();
  for (const e of timeline) {
    const key = `${e.profileId}|${e.funnelId}`;
    implied.set(key, maxStage(implied.get(key) ?? "AWARENESS", stageForEvent(e.type)));
  }
  const links = await readStages(prisma, workspaceId);
  report(
    "funnel link stage differs from its events' highest stage",
    [...links.current].filter(([key, stage]) => implied.get(key) !== stage),
  );
  return violations;
}

export type TStages = {
  /** `${profileId}|${funnelId}` → stage, for live profiles. */
  current: Map<string, TFunnelStage>;
  /** Every profile id → the live profile it is (itself, or its survivor). */
  liveOf: Map<string, string>;
};

export async function readStages(prisma: PrismaClient, workspaceId: string): Promise<TStages> {
  const [links, profiles] = await Promise.all([
    prisma.profileFunnelLink.findMany({
      where: { workspaceId },
      select: { profileId: true, funnelId: true, currentStage: true },
    }),
    prisma.profile.findMany({ where: { workspaceId }, select: { id: true, mergedIntoId: true } }),
  ]);
  return {
    current: new Map(links.map((l) => [`${l.profileId}|${l.funnelId}`, l.currentStage])),
    liveOf: new Map(profiles.map((p) => [p.id, p.mergedIntoId ?? p.id])),
  };
}

/**
 * Stages never go back: every stage seen before (on a profile, or on one merged into it since)
 * is at most the stage of the live profile now. Updates `highest` with what is seen now.
 */
export function findStageRegressions(highest: Map<string, TFunnelStage>, now: TStages): string[] {
  const regressions: string[] = [];
  for (const [key, before] of highest) {
    const [profileId, funnelId] = key.split("|") as [string, string];
    const liveKey = `${now.liveOf.get(profileId) ?? profileId}|${funnelId}`;
    const after = now.current.get(liveKey);
    if (after === undefined || FUNNEL_STAGES.indexOf(after) < FUNNEL_STAGES.indexOf(before)) {
      regressions.push(`${key} was ${before}, ${liveKey} is now ${after ?? "missing"}`);
    }
  }
  for (const [key, stage] of now.current) highest.set(key, maxStage(highest.get(key) ?? stage, stage));
  return regressions;
}

/** Everything a replayed request must leave untouched: row counts, counters, seen-times, stages. */
export async function snapshotIngestState(prisma: PrismaClient, workspaceId: string) {
  const where = { workspaceId };
  const [trackingEvents, identifiers, timeline, merges, profiles, links] = await Promise.all([
    prisma.trackingEvent.count({ where }),
    prisma.profileIdentifier.count({ where }),
    prisma.profileEvent.count({ where }),
    prisma.profileMerge.count({ where }),
    prisma.profile.findMany({ where, orderBy: { id: "asc" } }),
    prisma.profileFunnelLink.findMany({ where, orderBy: [{ profileId: "asc" }, { funnelId: "asc" }] }),
  ]);
  return { trackingEvents, identifiers, timeline, merges, profiles, links };
}

function bigintToNumber(_key: string, value: unknown) {
  return typeof value === "bigint" ? Number(value) : value;
}
