import type { TEventSource, TMessageScope } from "../../db/enums.ts";
import type { TFunnelStage } from "../stages.ts";
import type { TIdentifier, TMerge } from "./plan-profiles.ts";

/** The shapes the ingest's two statements read and write (ingest.repo.ts, write-batch.repo.ts). */

/** The site a batch is for; `browserStageCeiling` caps the browser door's stages (trust.ts). */
export type TSite = { id: string; funnelId: string; domain: string; browserStageCeiling: TFunnelStage };

/** The request's scope: the workspace acting and the site it names (not yet known to be the workspace's). */
export type TScope = { workspaceId: string; siteId: string };

/** An event already stored under a messageId, with its profile's live id and stage now. */
export type TStoredEvent = {
  messageId: string;
  id: string;
  liveProfileId: string;
  channel: string;
  stage: TFunnelStage;
};

export type TOwnerRow = {
  kind: TIdentifier["kind"];
  value: string;
  profileId: string;
  createdAt: Date;
  email: string | null;
};

/**
 * What the lock statement found: the live profiles it locked, the events already recorded under
 * the batch's messageIds, and who owns the batch's identifiers — `null` when a locked profile
 * changed while the statement waited for its lock (then findOwners must look again).
 */
export type TLockedState = { lockedProfileIds: Set<string>; recorded: TStoredEvent[]; owners: TOwnerRow[] | null };

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
  /** Who recorded it: `user:<id>` (session), `key:<id>` (API key), `stripe:<evt>` or `browser:<site>`. */
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
  /** The namespace the batch's messageIds are unique in: its door's (trust.ts). */
  messageScope: TMessageScope;
  /** Profiles to create; their delta is their whole history so far. */
  newProfiles: TProfileDelta[];
  /** Existing live profiles the batch touches. */
  touchedProfiles: TProfileDelta[];
  merges: (TMerge & { id: string; trackingEventId: string })[];
  identifiers: (TIdentifier & { profileId: string })[];
  events: TEventRow[];
  timeline: TTimelineRow[];
};
