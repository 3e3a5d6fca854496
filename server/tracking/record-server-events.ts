import type { TDatabase } from "../db/database.ts";
import { newId } from "../db/ids.ts";
import type { TSqlTx } from "../db/sql.ts";
import { DomainError, type TIssue } from "../errors/domain-error.ts";
import { siteNotInWorkspace } from "../workspaces/require-site.ts";
import type { TChannel } from "./channel-rules.ts";
import { categorizeChannel } from "./channels.ts";
import * as repo from "./ingest.repo.ts";
import { identifierKey, planProfiles, type TIdentifier, type TProfilePlan } from "./resolve-profiles.ts";
import type { TRecordServerEventsBody, TServerEvent } from "./server-event.schema.ts";
import { maxStage, stageForEvent, stageRank, type TFunnelStage } from "./stages.ts";
import { withTransactionRetry } from "./transaction-retry.ts";

import type { TRecordedEvent, TRecordResult } from "./recorded-event.schema.ts";

export type { TRecordedEvent, TRecordResult };

/**
 * Who records the batch: each way in authenticates on its own and names itself here. Below this
 * use case only `recordedBy` (stored on each event) tells the doors apart.
 * - session: a workspace member; an event's `userId` must be that member's own id.
 * - apiKey: a backend holding a workspace API key; an event's `userId` is the customer's own user
 *   id (a USER_ID identifier), and the event is attributed to the key.
 * - stripe: a verified Stripe webhook delivery, attributed to the Stripe event it translates.
 * - browser: the tracking snippet on one of the site's pages (`POST /api/collect`), unauthenticated
 *   but checked against the site's domain; its events are stored with source CLIENT, never a userId.
 */
export type TActor =
  | { kind: "session"; userId: string }
  | { kind: "apiKey"; keyId: string }
  | { kind: "stripe"; eventId: string }
  | { kind: "browser"; siteId: string };

/**
 * An event as the use case takes it: the public shape plus fields only our own translators set
 * (the public REST/tRPC schema does not accept them).
 */
export type TDomainEvent = TServerEvent & {
  /** A Stripe customer id (`cus_…`): a STRIPE_CUSTOMER identifier of the profile. */
  stripeCustomerId?: string;
};

export type TRecordBody = Omit<TRecordServerEventsBody, "events"> & { events: TDomainEvent[] };

export type TRecordInput = {
  workspaceId: string;
  actor: TActor;
  body: TRecordBody;
  /** The request's one clock (received_at and every other timestamp it writes); default: now. */
  receivedAt?: Date;
};

/** An event ready to store: its identifiers, channel, stage and time decided. */
type TPrepared = {
  index: number;
  event: TDomainEvent;
  id: string;
  identifiers: TIdentifier[];
  occurredAt: Date;
  channel: TChannel;
  channelRule: string;
  stage: TFunnelStage;
};

/**
 * After the dedupe step: the events to record, the stored original of each duplicate (by request
 * index), the profiles locked and their owners as the lock statement read them (null: read again).
 */
type TDeduped = {
  fresh: TPrepared[];
  duplicates: Map<number, repo.TStoredEvent>;
  lockedProfileIds: Set<string>;
  owners: repo.TOwnerRow[] | null;
};

/** The profile plan, with each fresh event's profile and the merges given their ids. */
type TResolved = {
  plan: TProfilePlan;
  profileOf: (freshIndex: number) => string;
  merges: repo.TBatchWrite["merges"];
};

/**
 * Records a validated batch of server events for the actor, in ONE transaction (retried
 * on deadlock or a lost race): event log, profiles (created or merged), identifiers, timeline,
 * funnel stage and counters. Duplicates by `(siteId, messageId)` are reported, not re-recorded.
 */
export async function recordServerEvents(db: TDatabase, input: TRecordInput): Promise<TRecordResult> {
  const now = input.receivedAt ?? new Date();
  const identifiersByEvent = input.body.events.map(identifiersOf);
  const identifiers = uniqueIdentifiers(identifiersByEvent);
  const messageIds = input.body.events.flatMap((e) => (e.messageId ? [e.messageId] : []));
  const lockKeys = lockKeysFor(input, identifiers, messageIds);
  return withTransactionRetry(
    db,
    async (tx) => {
      const scope = { workspaceId: input.workspaceId, siteId: input.body.siteId };
      const { site, locked } = authorize(input, await repo.openBatch(tx, scope, lockKeys, identifiers, messageIds));
      const prepared = input.body.events.map((event, index) =>
        prepare(event, index, identifiersByEvent[index] ?? [], input.body.sentAt, site, now),
      );
      const deduped = dedupe(prepared, locked);
      const resolved = await resolveProfiles(tx, input.workspaceId, deduped);
      const stages = await repo.writeBatch(tx, toBatchWrite(input, site, now, deduped.fresh, resolved));
      return buildResult(prepared, deduped, resolved, stages);
    },
    { genericPlans: true },
  );
}

/**
 * Advisory-lock keys for the batch's identifiers (per workspace) and messageIds (per site), sorted
 * so that two requests always lock in the same order. The site is the one the body names: if it
 * is not the workspace's, the request fails before any lock is taken.
 */
function lockKeysFor({ workspaceId, body }: TRecordInput, identifiers: TIdentifier[], messageIds: string[]): number[] {
  const keys = new Set<number>();
  for (const i of identifiers) keys.add(advisoryLockKey(`${workspaceId}|${identifierKey(i)}`));
  for (const messageId of messageIds) keys.add(advisoryLockKey(`${body.siteId}|msg|${messageId}`));
  return [...keys].sort((a, b) => a - b);
}

/** The site must be the workspace's (the batch opened), and for a session any `userId` the caller's own. */
function authorize<T>(input: TRecordInput, opened: T | null): T {
  if (!opened) throw siteNotInWorkspace();
  const { actor } = input;
  if (actor.kind !== "session") return opened;
  const foreign: TIssue[] = input.body.events.flatMap((e, i) =>
    e.userId !== undefined && e.userId !== actor.userId
      ? [{ path: ["events", i, "userId"], code: "forbidden", message: "must be your own user id (the session user's)" }]
      : [],
  );
  if (foreign.length) {
    throw new DomainError("USER_ID_MISMATCH", "userId may only be the session user's own id", foreign);
  }
  return opened;
}

function identifiersOf(event: TDomainEvent): TIdentifier[] {
  const identifiers: TIdentifier[] = [];
  if (event.visitorId !== undefined) identifiers.push({ kind: "VISITOR", value: event.visitorId });
  if (event.email !== undefined) identifiers.push({ kind: "EMAIL", value: event.email });
  if (event.userId !== undefined) identifiers.push({ kind: "USER_ID", value: event.userId });
  if (event.stripeCustomerId !== undefined)
    identifiers.push({ kind: "STRIPE_CUSTOMER", value: event.stripeCustomerId });
  return identifiers;
}

function prepare(
  event: TDomainEvent,
  index: number,
  identifiers: TIdentifier[],
  sentAt: string | undefined,
  site: repo.TSite,
  now: Date,
): TPrepared {
  const { referrer, path, utm } = event;
  const { channel, rule } = categorizeChannel({ referrer, path, utm, siteDomain: site.domain });
  return {
    index,
    event,
    identifiers,
    channel,
    channelRule: rule,
    id: newId("evt"),
    occurredAt: occurredAt(event.timestamp, sentAt, now),
    stage: stageForEvent(event.type),
  };
}

/** Sets aside the events already recorded under their messageId (the lock statement found them). */
function dedupe(prepared: TPrepared[], { lockedProfileIds, recorded, owners }: repo.TLockedState): TDeduped {
  const byMessage = new Map(recorded.map((r) => [r.messageId, r]));
  const duplicates = new Map<number, repo.TStoredEvent>();
  for (const p of prepared) {
    const original = p.event.messageId === undefined ? undefined : byMessage.get(p.event.messageId);
    if (original) duplicates.set(p.index, original);
  }
  return { fresh: prepared.filter((p) => !duplicates.has(p.index)), duplicates, lockedProfileIds, owners };
}

/** Which profile each fresh event lands on, which are created and which merged (see planProfiles). */
async function resolveProfiles(tx: TSqlTx, workspaceId: string, deduped: TDeduped): Promise<TResolved> {
  const { fresh, lockedProfileIds } = deduped;
  const identifiers = uniqueIdentifiers(fresh.map((p) => p.identifiers));
  const owners = await ownersOf(tx, workspaceId, deduped, identifiers);
  // A profile merged away while we waited for its lock handed its identifiers to one we do not hold.
  if (owners.some((o) => !lockedProfileIds.has(o.profileId))) {
    throw new repo.IngestConflictError("an owning profile was merged while waiting for its lock");
  }
  const plan = planProfiles({
    events: fresh.map((p) => ({ identifiers: p.identifiers, email: p.event.email ?? null })),
    owners: new Map(owners.map((o) => [identifierKey(o), o.profileId])),
    profiles: new Map(
      owners.map((o) => [o.profileId, { id: o.profileId, createdAt: o.createdAt.getTime(), email: o.email }]),
    ),
    newProfileId: () => newId("prf"),
  });
  const profileOf = (i: number) => itemAt(plan.eventProfiles, i);
  const merges = plan.merges.map((m) => ({ ...m, id: newId("mrg"), trackingEventId: itemAt(fresh, m.eventIndex).id }));
  return { plan, profileOf, merges };
}

/**
 * The owners of the fresh events' identifiers: as the lock statement read them, unless a locked
 * profile changed while it waited (then read again, now that the locks are held). Owners are live
 * profiles, all locked by now: with none locked there is nobody to look up.
 */
async function ownersOf(
  tx: TSqlTx,
  workspaceId: string,
  { lockedProfileIds, owners }: TDeduped,
  identifiers: TIdentifier[],
): Promise<repo.TOwnerRow[]> {
  if (!lockedProfileIds.size) return [];
  if (!owners) return repo.findOwners(tx, workspaceId, identifiers);
  const wanted = new Set(identifiers.map(identifierKey));
  return owners.filter((o) => wanted.has(identifierKey(o)));
}

/** Everything the batch writes, as rows: one statement stores it all. */
function toBatchWrite(
  input: TRecordInput,
  site: repo.TSite,
  now: Date,
  fresh: TPrepared[],
  { plan, profileOf, merges }: TResolved,
): repo.TBatchWrite {
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
    workspaceId: input.workspaceId,
    site,
    now,
    newProfiles: deltas.filter((d) => created.has(d.profileId)),
    touchedProfiles: deltas.filter((d) => !created.has(d.profileId)),
    merges,
    identifiers: plan.newIdentifiers,
    source: sourceOf(input.actor),
    events: fresh.map((p, i) => toEventRow(p, profileOf(i), input.actor)),
    timeline: [...mergeEntries, ...eventEntries],
  };
}

/**
 * What the batch adds to each profile: event and pageview counts, the time span, and the highest
 * stage its events imply with the earliest time it was reached (the link's stageChangedAt).
 */
function summarizeByProfile(fresh: TPrepared[], profileOf: (i: number) => string): repo.TProfileDelta[] {
  const deltas = new Map<string, repo.TProfileDelta>();
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

/** The response: per event in request order, recorded or the duplicate's original (on its live profile). */
function buildResult(
  prepared: TPrepared[],
  { fresh, duplicates }: TDeduped,
  { plan, profileOf, merges }: TResolved,
  stages: Map<string, TFunnelStage>,
): TRecordResult {
  const freshIndex = new Map(fresh.map((p, i) => [p.index, i]));
  const mergedInto = new Map(merges.map((m) => [m.loserId, m.survivorId]));
  const events = prepared.map((p): TRecordedEvent => {
    const original = duplicates.get(p.index);
    if (original) {
      // The original's profile may have been merged by this very batch.
      const profileId = mergedInto.get(original.liveProfileId) ?? original.liveProfileId;
      const stage = stages.get(profileId) ?? original.stage;
      const channel = original.channel as TChannel;
      return { index: p.index, eventId: original.id, profileId, status: "duplicate", channel, stage };
    }
    const i = freshIndex.get(p.index) ?? -1;
    const profileId = profileOf(i);
    const merged = merges.filter((m) => m.eventIndex === i).map((m) => m.loserId);
    const refused = plan.refusals.get(i);
    return {
      index: p.index,
      eventId: p.id,
      profileId,
      status: "recorded",
      channel: p.channel,
      stage: stages.get(profileId) ?? p.stage,
      ...(merged.length ? { merged } : {}),
      ...(refused ? { mergeRefused: { profileIds: refused, reason: "different_email" as const } } : {}),
    };
  });
  return { accepted: fresh.length, duplicates: duplicates.size, events };
}

/** Clock-skew correction: with `sentAt`, occurredAt = receivedAt − (sentAt − timestamp). */
export function occurredAt(timestamp: string | undefined, sentAt: string | undefined, receivedAt: Date): Date {
  if (!timestamp) return receivedAt;
  const ts = Date.parse(timestamp);
  return new Date(sentAt ? receivedAt.getTime() - (Date.parse(sentAt) - ts) : ts);
}

/**
 * A 53-bit advisory-lock key for `text`, the same in every process: cyrb53, a public-domain
 * non-cryptographic string hash (two multiply-xor lanes over the UTF-16 code units, mixed at the
 * end). About four times cheaper than SHA-256 through node:crypto, which was 4 % of a REST
 * request's CPU at 150 keys a batch. Nobody chooses the keys to collide with advantage: a
 * collision only makes two unrelated requests wait for each other, and the unique constraints
 * decide correctness whatever the locks do (docs/concurrency.md).
 */
export function advisoryLockKey(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** `list[i]` for an index the plan guarantees; a miss is a bug, not a request error. */
function itemAt<T>(list: readonly T[], i: number): T {
  if (i < 0 || i >= list.length) throw new Error(`index ${i} out of range (${list.length})`);
  return list[i] as T;
}

function uniqueIdentifiers(lists: TIdentifier[][]): TIdentifier[] {
  const seen = new Map<string, TIdentifier>();
  for (const list of lists) for (const i of list) seen.set(identifierKey(i), i);
  return [...seen.values()];
}

/**
 * `user:<id>`, `key:<id>`, `stripe:<evt id>` or `browser:<site id>`: which door and which
 * principal recorded an event.
 */
export function recordedBy(actor: TActor): string {
  switch (actor.kind) {
    case "session":
      return `user:${actor.userId}`;
    case "apiKey":
      return `key:${actor.keyId}`;
    case "stripe":
      return `stripe:${actor.eventId}`;
    case "browser":
      return `browser:${actor.siteId}`;
  }
}

/** A session's events carry the member's id; a key's carry the customer's own user id, if any; a browser's none. */
function storedUserId(actor: TActor, event: TServerEvent): string | null {
  switch (actor.kind) {
    case "session":
      return actor.userId;
    case "apiKey":
    case "stripe":
      return event.userId ?? null;
    case "browser":
      return null;
  }
}

/** Events a browser sends are CLIENT events; every other door is a backend's (SERVER). */
function sourceOf(actor: TActor): repo.TBatchWrite["source"] {
  switch (actor.kind) {
    case "browser":
      return "CLIENT";
    case "session":
    case "apiKey":
    case "stripe":
      return "SERVER";
  }
}

function toEventRow(p: TPrepared, profileId: string, actor: TActor): repo.TEventRow {
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
