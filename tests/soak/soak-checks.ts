import type { PrismaClient } from "../../generated/prisma/client.ts";
import { findInvariantViolations, findStageRegressions, readStages } from "../support/ingest-invariants.ts";
import { HOSTILE_MARK } from "./hostile-payloads.ts";
import type { SoakLedger } from "./soak-ledger.ts";

export type TCheck = { name: string; what: string; violations: string[] };

/**
 * Which of the shared ingest invariants (tests/support/ingest-invariants.ts, reported as
 * "<what>: <rows>") belong to which soak check. A violation no entry claims fails "other invariants".
 */
const INVARIANT_GROUPS: Record<string, string[]> = {
  identifiers: [
    "identifier not owned by a live profile",
    "live profile with two emails",
    "tombstone pointing at a tombstone or nothing",
  ],
  timeline: [
    "timeline entry or funnel link on a tombstone",
    "tracking event without a profile or timeline entry",
    "timeline entry on another profile than its tracking event's (live) profile",
  ],
  counters: [
    "profile counters differ from the rows",
    "funnel link counters differ from the rows",
    "first/last seen differ from the events' times",
    "live profile with events but no funnel link",
  ],
  stages: ["funnel link stage differs from its events' highest stage"],
  merges: ["merge audit row that does not match the tombstone"],
};

type TEventRow = { siteId: string; messageId: string | null; id: string; profileId: string; liveId: string };

/** Everything the soak proves afterwards, from the clients' ledger and SQL on the soak's database. */
export async function runChecks(prisma: PrismaClient, workspaceId: string, ledger: SoakLedger): Promise<TCheck[]> {
  const invariants = groupInvariants(await findInvariantViolations(prisma, workspaceId));
  const rows = await prisma.$queryRaw<TEventRow[]>`
    SELECT t.site_id AS "siteId", t.message_id AS "messageId", t.id, t.profile_id AS "profileId",
      COALESCE(p.merged_into_id, p.id) AS "liveId"
    FROM tracking_events t JOIN profiles p ON p.id = t.profile_id WHERE t.workspace_id = ${workspaceId}`;
  return [
    { name: "zero 5xx", what: "no request answered 5xx or nothing at all", violations: ledger.serverErrors },
    {
      name: "sessions across instances",
      what: "a cookie from one instance works on the other",
      violations: ledger.sessionFailures,
    },
    {
      name: "valid requests accepted",
      what: "every valid write and read answered 200 with one result per event",
      violations: ledger.unexpected,
    },
    {
      name: "hostile payloads refused",
      what: "every hostile payload answered 4xx",
      violations: hostileViolations(ledger),
    },
    {
      name: "refused requests wrote nothing",
      what: "no row carries a hostile payload's identifiers",
      violations: await hostileWrites(prisma, workspaceId),
    },
    {
      name: "recorded exactly once",
      what: "each accepted messageId is one row, the one the answers named",
      violations: exactlyOnce(ledger, rows),
    },
    {
      name: "one live owner per identifier",
      what: "every identifier on exactly one live profile",
      violations: invariants.take("identifiers"),
    },
    {
      name: "timeline rows point at events",
      what: "each timeline row has its tracking event; $merge rows name a profile merged into theirs",
      violations: [...invariants.take("timeline"), ...(await timelineViolations(prisma, workspaceId))],
    },
    {
      name: "counters equal rows",
      what: "profile and funnel-link counters and seen-times equal the counted rows",
      violations: invariants.take("counters"),
    },
    {
      name: "stages never went back",
      what: "every stage a client saw is at most the live profile's now; each stage is its events' highest",
      violations: [
        ...invariants.take("stages"),
        ...findStageRegressions(new Map(ledger.stagesSeen), await readStages(prisma, workspaceId)),
      ],
    },
    {
      name: "merges as answered",
      what: "the merges the answers reported are the merges stored, each with one $merge timeline entry",
      violations: [...invariants.take("merges"), ...(await mergeViolations(prisma, workspaceId, ledger))],
    },
    { name: "other invariants", what: "every other ingest invariant holds", violations: invariants.rest() },
  ];
}

function groupInvariants(violations: string[]) {
  const left = new Set(violations);
  return {
    take(group: string): string[] {
      const prefixes = INVARIANT_GROUPS[group] ?? [];
      const taken = [...left].filter((v) => prefixes.some((p) => v.startsWith(`${p}: `)));
      for (const v of taken) left.delete(v);
      return taken;
    },
    rest: () => [...left],
  };
}

function hostileViolations(ledger: SoakLedger): string[] {
  return [...ledger.hostile].flatMap(([name, statuses]) => {
    const wrong = statuses.filter((s) => s < 400 || s > 499);
    return wrong.length
      ? [`${name}: answered ${[...new Set(wrong)].join(", ")} (${wrong.length} of ${statuses.length} tries)`]
      : [];
  });
}

async function hostileWrites(prisma: PrismaClient, workspaceId: string): Promise<string[]> {
  const like = `${HOSTILE_MARK}%`;
  const rows = await prisma.$queryRaw<{ what: string; value: string }[]>`
    SELECT 'event' AS what, coalesce(message_id, visitor_id) AS value FROM tracking_events
    WHERE workspace_id = ${workspaceId} AND (message_id LIKE ${like} OR visitor_id LIKE ${like})
    UNION ALL
    SELECT 'identifier', value FROM profile_identifiers WHERE workspace_id = ${workspaceId} AND value LIKE ${like}`;
  return rows.map((r) => `${r.what} ${r.value} stored`);
}

/**
 * By messageId: at most one "recorded" answer, every answer naming the same event, which is the one
 * stored row (on the profile answered, or one merged with it since); no stored row nobody sent.
 */
function exactlyOnce(ledger: SoakLedger, rows: TEventRow[]): string[] {
  const violations: string[] = [];
  const stored = new Map(rows.map((r) => [`${r.siteId}|${r.messageId}`, r]));
  const liveOf = new Map(rows.map((r) => [r.profileId, r.liveId]));
  for (const [key, m] of ledger.messages) {
    const row = stored.get(key);
    const recorded = m.answers.filter((a) => a.status === "recorded");
    const eventIds = new Set(m.answers.map((a) => a.eventId));
    if (recorded.length > 1) violations.push(`${m.messageId}: answered "recorded" ${recorded.length} times`);
    if (eventIds.size > 1) violations.push(`${m.messageId}: answers name different events ${[...eventIds].join(", ")}`);
    if (m.answers.length === 0) continue;
    if (!row) violations.push(`${m.messageId}: answered ${m.answers[0]!.status} but not stored (lost)`);
    else if (row.id !== m.answers[0]!.eventId)
      violations.push(`${m.messageId}: answered ${m.answers[0]!.eventId}, stored ${row.id}`);
    else if (recorded[0] && recorded[0].profileId !== row.profileId) {
      violations.push(`${m.messageId}: recorded on ${recorded[0].profileId}, stored on ${row.profileId}`);
    }
    if (
      row &&
      m.answers.some((a) => a.status === "duplicate" && (liveOf.get(a.profileId) ?? a.profileId) !== row.liveId)
    ) {
      violations.push(`${m.messageId}: a duplicate answer named a profile that is not (merged into) ${row.liveId}`);
    }
    if (recorded.length === 0 && m.unanswered === 0)
      violations.push(`${m.messageId}: answered only "duplicate", never "recorded"`);
  }
  for (const row of rows) {
    if (row.messageId?.startsWith(HOSTILE_MARK)) continue;
    if (!row.messageId || !ledger.messages.has(`${row.siteId}|${row.messageId}`))
      violations.push(`${row.id}: stored, never sent (${row.messageId})`);
  }
  return violations;
}

/** No FK ties a timeline row to its event: a real event needs one that exists; `$merge` entries have none. */
async function timelineViolations(prisma: PrismaClient, workspaceId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string; type: string; problem: string }[]>`
    SELECT e.id, e.type,
      CASE WHEN e.type = '$merge' THEN 'merge entry with an event' ELSE 'no such tracking event' END AS problem
    FROM profile_events e LEFT JOIN tracking_events t ON t.id = e.tracking_event_id
    WHERE e.workspace_id = ${workspaceId}
      AND ((e.type <> '$merge' AND t.id IS NULL) OR (e.type = '$merge' AND e.tracking_event_id IS NOT NULL))
    UNION ALL
    SELECT e.id, e.type, 'merge entry naming a profile not merged into its own'
    FROM profile_events e LEFT JOIN profiles l ON l.id = e.detail->>'mergedProfileId'
    WHERE e.workspace_id = ${workspaceId} AND e.type = '$merge'
      AND (l.id IS NULL OR l.merged_into_id IS DISTINCT FROM e.profile_id)`;
  return rows.map((r) => `${r.id} (${r.type}): ${r.problem}`);
}

async function mergeViolations(prisma: PrismaClient, workspaceId: string, ledger: SoakLedger): Promise<string[]> {
  const [merges, entries] = await Promise.all([
    prisma.profileMerge.findMany({ where: { workspaceId }, select: { mergedId: true } }),
    prisma.profileEvent.count({ where: { workspaceId, type: "$merge" } }),
  ]);
  const violations: string[] = [];
  const stored = merges.map((m) => m.mergedId).sort();
  const answered = [...ledger.mergedAway].sort();
  if (stored.join() !== answered.join()) {
    const missing = answered.filter((id) => !stored.includes(id));
    const extra = stored.filter((id) => !answered.includes(id));
    violations.push(
      `answers reported ${answered.length} merges, ${stored.length} stored ` +
        `(answered only: ${missing.join(", ")}; stored only: ${extra.join(", ")})`,
    );
  }
  if (entries !== merges.length)
    violations.push(`${merges.length} merges stored but ${entries} $merge timeline entries`);
  return violations;
}
