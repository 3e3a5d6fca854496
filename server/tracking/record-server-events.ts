import { createHash } from "node:crypto";
import type { TDatabase } from "../db/database.ts";
import { newId } from "../db/ids.ts";
import { DomainError, type TIssue } from "../errors/domain-error.ts";
import { requireSiteInWorkspace } from "../workspaces/require-site.ts";
import type { TChannel } from "./channel-rules.ts";
import { categorizeChannel } from "./channels.ts";
import * as repo from "./ingest.repo.ts";
import { identifierKey, planProfiles, type TIdentifier, type TKnownProfile } from "./resolve-profiles.ts";
import type { TRecordServerEventsBody, TServerEvent } from "./server-event.schema.ts";
import { maxStage, stageForEvent, stageRank, type TFunnelStage } from "./stages.ts";
import { withTransactionRetry } from "./transaction-retry.ts";

export type TRecordedEvent = {
  index: number;
  eventId: string;
  profileId: string;
  status: "recorded" | "duplicate";
  channel: TChannel;
  stage: TFunnelStage;
  merged?: string[];
  mergeRefused?: { profileIds: string[]; reason: "different_email" };
};

export type TRecordResult = { accepted: number; duplicates: number; events: TRecordedEvent[] };

type TPrepared = {
  index: number;
  event: TServerEvent;
  id: string;
  identifiers: TIdentifier[];
  occurredAt: Date;
  channel: TChannel;
  channelRule: string;
  stage: TFunnelStage;
};

/**
 * Records a validated batch of server events for the session user: checks the site belongs to
 * the workspace and that any `userId` is the caller's, then writes everything in ONE transaction
 * (retried on deadlock or a lost race): event log, profiles (created or merged), identifiers,
 * timeline, funnel stage and counters. Duplicates by `(siteId, messageId)` are reported, not re-recorded.
 */
export async function recordServerEvents(
  db: TDatabase,
  input: { workspaceId: string; sessionUserId: string; body: TRecordServerEventsBody; receivedAt?: Date },
): Promise<TRecordResult> {
  const { workspaceId, sessionUserId, body } = input;
  const site = await requireSiteInWorkspace(db.prisma, workspaceId, body.siteId);
  const foreign: TIssue[] = body.events.flatMap((e, i) =>
    e.userId !== undefined && e.userId !== sessionUserId ? [{ path: ["events", i, "userId"], code: "forbidden", message: "must be your own user id (the session user's)" }] : [],
  );
  if (foreign.length) throw new DomainError("USER_ID_MISMATCH", "userId may only be the session user's own id", foreign);

  const receivedAt = input.receivedAt ?? new Date();
  const prepared = body.events.map((event, index) => prepare(event, index, { receivedAt, sentAt: body.sentAt, siteDomain: site.domain }));
  const lockKeys = [...new Set([
    ...prepared.flatMap((p) => p.identifiers.map((i) => advisoryKey(`${workspaceId}|${identifierKey(i)}`))),
    ...prepared.flatMap((p) => (p.event.messageId ? [advisoryKey(`${site.id}|msg|${p.event.messageId}`)] : [])),
  ])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

  return withTransactionRetry(db, async (tx) => {
    await repo.lockKeys(tx, lockKeys);
    const recorded = await repo.findRecordedMessages(tx, site.id, prepared.flatMap((p) => (p.event.messageId ? [p.event.messageId] : [])));
    const byMessage = new Map(recorded.map((r) => [r.messageId, r]));
    const fresh = prepared.filter((p) => !p.event.messageId || !byMessage.has(p.event.messageId));

    const identifiers = uniqueIdentifiers(fresh);
    const locked = await repo.lockOwningProfiles(tx, workspaceId, identifiers);
    const owners = await repo.findOwners(tx, workspaceId, identifiers);
    // A profile merged away while we waited for its lock handed its identifiers to one we do not hold.
    if (owners.some((o) => !locked.has(o.profileId))) throw new repo.IngestConflictError("an owning profile was merged while waiting for its lock");
    const profiles = new Map<string, TKnownProfile>(owners.map((o) => [o.profileId, { id: o.profileId, createdAt: o.createdAt.getTime(), email: o.email }]));
    const plan = planProfiles({
      events: fresh.map((p) => ({ identifiers: p.identifiers, email: p.event.email ?? null })),
      owners: new Map(owners.map((o) => [identifierKey(o), o.profileId])),
      profiles,
      newProfileId: () => newId("prf"),
    });
    const now = new Date();
    const ctx = { workspaceId, siteId: site.id, funnelId: site.funnelId, receivedAt, now };
    const profileOf = (i: number) => plan.eventProfiles[i]!;

    const span = summarizeByProfile(fresh, profileOf);
    const merges = plan.merges.map((m) => ({ ...m, id: newId("mrg"), trackingEventId: fresh[m.eventIndex]!.id }));
    await repo.insertProfiles(tx, workspaceId, plan.newProfileIds.map((id) => ({ id, firstSeenAt: span.get(id)!.first, lastSeenAt: span.get(id)!.last })), now);
    await repo.applyMerges(tx, workspaceId, merges, now);
    await repo.insertIdentifiers(tx, workspaceId, plan.newIdentifiers, now);
    await repo.insertTrackingEvents(tx, ctx, fresh.map((p, i) => toEventRow(p, profileOf(i), sessionUserId)));
    await repo.insertTimeline(tx, ctx, [
      ...merges.map((m) => ({
        id: newId("pev"), profileId: m.survivorId, trackingEventId: null, type: "$merge", occurredAt: receivedAt,
        detail: JSON.stringify({ mergedProfileId: m.loserId, identifier: m.cause }),
      })),
      ...fresh.map((p, i) => ({ id: newId("pev"), profileId: profileOf(i), trackingEventId: p.id, type: p.event.type, detail: null, occurredAt: p.occurredAt })),
    ]);
    const stages = await repo.upsertFunnelLinks(tx, ctx, [...span].map(([profileId, s]) => ({
      profileId, stage: s.stage, stageAt: s.stageAt, count: s.events, firstSeenAt: s.first, lastSeenAt: s.last,
    })));
    await repo.addProfileCounters(tx, [...span].map(([profileId, s]) => ({
      profileId, events: s.events, serverEvents: s.events, pageviews: s.pageviews, firstSeenAt: s.first, lastSeenAt: s.last,
    })));
    const dupState = await repo.findLiveProfilesWithStage(tx, site.funnelId, [...new Set(recorded.map((r) => r.profileId))]);

    const stageOf = new Map(stages.map((s) => [s.profileId, s.stage]));
    const dupOf = new Map(dupState.map((d) => [d.id, d]));
    const freshIndex = new Map(fresh.map((p, i) => [p.index, i]));
    const events = prepared.map((p): TRecordedEvent => {
      const i = freshIndex.get(p.index);
      if (i === undefined) {
        const original = byMessage.get(p.event.messageId!)!;
        const live = dupOf.get(original.profileId);
        return { index: p.index, eventId: original.id, profileId: live?.liveId ?? original.profileId, status: "duplicate", channel: original.channel as TChannel, stage: live?.stage ?? "AWARENESS" };
      }
      const profileId = profileOf(i);
      const merged = merges.filter((m) => m.eventIndex === i).map((m) => m.loserId);
      const refused = plan.refusals.get(i);
      return {
        index: p.index, eventId: p.id, profileId, status: "recorded", channel: p.channel, stage: stageOf.get(profileId)!,
        ...(merged.length ? { merged } : {}),
        ...(refused ? { mergeRefused: { profileIds: refused, reason: "different_email" as const } } : {}),
      };
    });
    return { accepted: fresh.length, duplicates: prepared.length - fresh.length, events };
  });
}

type TProfileSpan = { first: Date; last: Date; events: number; pageviews: number; stage: TFunnelStage; stageAt: Date };

/**
 * What the batch adds to each profile: event and pageview counts, the time span, and the highest
 * stage its events imply with the earliest time it was reached (the link's stageChangedAt).
 */
function summarizeByProfile(fresh: TPrepared[], profileOf: (i: number) => string): Map<string, TProfileSpan> {
  const span = new Map<string, TProfileSpan>();
  fresh.forEach((p, i) => {
    const pageviews = p.event.type === "pageview" ? 1 : 0;
    const s = span.get(profileOf(i));
    if (!s) return void span.set(profileOf(i), { first: p.occurredAt, last: p.occurredAt, events: 1, pageviews, stage: p.stage, stageAt: p.occurredAt });
    s.first = p.occurredAt < s.first ? p.occurredAt : s.first;
    s.last = p.occurredAt > s.last ? p.occurredAt : s.last;
    s.events += 1;
    s.pageviews += pageviews;
    if (stageRank(p.stage) > stageRank(s.stage) || (p.stage === s.stage && p.occurredAt < s.stageAt)) s.stageAt = p.occurredAt;
    s.stage = maxStage(s.stage, p.stage);
  });
  return span;
}

function prepare(event: TServerEvent, index: number, ctx: { receivedAt: Date; sentAt?: string; siteDomain: string }): TPrepared {
  const identifiers: TIdentifier[] = [];
  if (event.visitorId !== undefined) identifiers.push({ kind: "VISITOR", value: event.visitorId });
  if (event.email !== undefined) identifiers.push({ kind: "EMAIL", value: event.email });
  if (event.userId !== undefined) identifiers.push({ kind: "USER_ID", value: event.userId });
  const { channel, rule } = categorizeChannel({ referrer: event.referrer, path: event.path, utm: event.utm, siteDomain: ctx.siteDomain });
  return {
    index, event, identifiers, channel, channelRule: rule,
    id: newId("evt"),
    occurredAt: occurredAt(event.timestamp, ctx.sentAt, ctx.receivedAt),
    stage: stageForEvent(event.type, "SERVER"),
  };
}

/** Clock-skew correction: with `sentAt`, occurredAt = receivedAt − (sentAt − timestamp). */
export function occurredAt(timestamp: string | undefined, sentAt: string | undefined, receivedAt: Date): Date {
  if (!timestamp) return receivedAt;
  const ts = Date.parse(timestamp);
  return new Date(sentAt ? receivedAt.getTime() - (Date.parse(sentAt) - ts) : ts);
}

/** A signed 64-bit advisory-lock key (as text) from the first 8 bytes of SHA-256. */
export function advisoryKey(text: string): string {
  return createHash("sha256").update(text).digest().readBigInt64BE(0).toString();
}

function uniqueIdentifiers(prepared: TPrepared[]): TIdentifier[] {
  const seen = new Map<string, TIdentifier>();
  for (const p of prepared) for (const i of p.identifiers) seen.set(identifierKey(i), i);
  return [...seen.values()];
}

function toEventRow(p: TPrepared, profileId: string, sessionUserId: string): repo.TEventRow {
  const e = p.event;
  return {
    id: p.id, type: e.type, visitorId: e.visitorId ?? null, email: e.email ?? null, userId: sessionUserId, profileId,
    path: e.path ?? null, referrer: e.referrer ?? null,
    utmSource: e.utm?.source ?? null, utmMedium: e.utm?.medium ?? null, utmCampaign: e.utm?.campaign ?? null,
    utmTerm: e.utm?.term ?? null, utmContent: e.utm?.content ?? null,
    channel: p.channel, channelRule: p.channelRule, props: e.props === undefined ? null : JSON.stringify(e.props),
    messageId: e.messageId ?? null, occurredAt: p.occurredAt,
  };
}
