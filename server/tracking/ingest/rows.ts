import { newId } from "../../db/ids.ts";
import { maxStage, stageRank } from "../stages.ts";
import { recordedBy, sourceOf, storedUserId, type TActor } from "./actor.ts";
import type { TBatchWrite, TEventRow, TProfileDelta, TSite } from "./batch.types.ts";
import type { TPrepared } from "./prepare.ts";
import type { TResolved } from "./resolve.ts";
import { trustOf } from "./trust.ts";

/** Everything the batch writes, as rows: one statement stores it all. */
export function toBatchWrite(
  scope: { workspaceId: string; actor: TActor; site: TSite; now: Date },
  fresh: TPrepared[],
  { plan, profileOf, merges }: TResolved,
): TBatchWrite {
  const { workspaceId, actor, site, now } = scope;
  const deltas = summarizeByProfile(fresh, profileOf);
  const created = new Set(plan.newProfileIds);
  const mergeEntries = merges.map((m) => ({
    id: newId("pev"),
    profileId: m.survivorId,
    trackingEventId: null,
    type: "$merge",
    occurredAt: now,
    detail: JSON.stringify({ mergedProfileId: m.loserId, identifier: m.cause }),
  }));
  const eventEntries = fresh.map((p, i) => ({
    id: newId("pev"),
    profileId: profileOf(i),
    trackingEventId: p.id,
    type: p.event.type,
    detail: null,
    occurredAt: p.occurredAt,
  }));
  return {
    workspaceId,
    site,
    now,
    newProfiles: deltas.filter((d) => created.has(d.profileId)),
    touchedProfiles: deltas.filter((d) => !created.has(d.profileId)),
    merges,
    identifiers: plan.newIdentifiers,
    source: sourceOf(actor),
    messageScope: trustOf(actor).messageScope,
    events: fresh.map((p, i) => toEventRow(p, profileOf(i), actor)),
    timeline: [...mergeEntries, ...eventEntries],
  };
}

/**
 * What the batch adds to each profile: event and pageview counts, the time span, and the highest
 * stage its events imply with the earliest time it was reached (the link's stageChangedAt).
 */
function summarizeByProfile(fresh: TPrepared[], profileOf: (i: number) => string): TProfileDelta[] {
  const deltas = new Map<string, TProfileDelta>();
  fresh.forEach((p, i) => {
    const profileId = profileOf(i);
    const pageviews = p.event.type === "pageview" ? 1 : 0;
    const at = p.occurredAt;
    const d = deltas.get(profileId);
    if (!d) {
      const stage = p.stage;
      deltas.set(profileId, { profileId, events: 1, pageviews, firstSeenAt: at, lastSeenAt: at, stage, stageAt: at });
      return;
    }
    d.firstSeenAt = at < d.firstSeenAt ? at : d.firstSeenAt;
    d.lastSeenAt = at > d.lastSeenAt ? at : d.lastSeenAt;
    d.events += 1;
    d.pageviews += pageviews;
    if (stageRank(p.stage) > stageRank(d.stage) || (p.stage === d.stage && at < d.stageAt)) d.stageAt = at;
    d.stage = maxStage(d.stage, p.stage);
  });
  return [...deltas.values()];
}

function toEventRow(p: TPrepared, profileId: string, actor: TActor): TEventRow {
  const e = p.event;
  return {
    id: p.id,
    type: e.type,
    visitorId: e.visitorId ?? null,
    email: e.email ?? null,
    userId: storedUserId(actor, e),
    recordedBy: recordedBy(actor),
    profileId,
    path: e.path ?? null,
    referrer: e.referrer ?? null,
    utmSource: e.utm?.source ?? null,
    utmMedium: e.utm?.medium ?? null,
    utmCampaign: e.utm?.campaign ?? null,
    utmTerm: e.utm?.term ?? null,
    utmContent: e.utm?.content ?? null,
    channel: p.channel,
    channelRule: p.channelRule,
    props: e.props === undefined ? null : JSON.stringify(e.props),
    messageId: e.messageId ?? null,
    occurredAt: p.occurredAt,
  };
}
