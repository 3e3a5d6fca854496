import { newId } from "../../db/ids.ts";
import type { TChannel } from "../channel-rules.ts";
import { categorizeChannel } from "../channels.ts";
import type { TRecordServerEventsBody, TServerEvent } from "../server-event.schema.ts";
import { stageForEvent, type TFunnelStage } from "../stages.ts";
import type { TSite } from "./batch.types.ts";
import { identifierKey, type TIdentifier } from "./plan-profiles.ts";
import { cappedStage, type TStageCapped } from "./trust.ts";

/**
 * An event as the use case takes it: the public shape plus fields only our own translators set
 * (the public REST/tRPC schema does not accept them).
 */
export type TDomainEvent = TServerEvent & {
  /** A Stripe customer id (`cus_…`): a STRIPE_CUSTOMER identifier of the profile. */
  stripeCustomerId?: string;
};

export type TIngestBody = Omit<TRecordServerEventsBody, "events"> & { events: TDomainEvent[] };

/** An event ready to store: its identifiers, channel, stage and time decided. */
export type TPrepared = {
  index: number;
  event: TDomainEvent;
  id: string;
  identifiers: TIdentifier[];
  occurredAt: Date;
  channel: TChannel;
  channelRule: string;
  /** The stage it moves its profile to: its rule's, at most the door's ceiling. */
  stage: TFunnelStage;
  /** Set when the ceiling lowered the rule's stage. */
  stageCapped: TStageCapped | undefined;
};

/** The identifiers an event names, in a fixed order: visitor, email, user id, Stripe customer. */
export function identifiersOf(event: TDomainEvent): TIdentifier[] {
  const identifiers: TIdentifier[] = [];
  if (event.visitorId !== undefined) identifiers.push({ kind: "VISITOR", value: event.visitorId });
  if (event.email !== undefined) identifiers.push({ kind: "EMAIL", value: event.email });
  if (event.userId !== undefined) identifiers.push({ kind: "USER_ID", value: event.userId });
  if (event.stripeCustomerId !== undefined)
    identifiers.push({ kind: "STRIPE_CUSTOMER", value: event.stripeCustomerId });
  return identifiers;
}

export function uniqueIdentifiers(lists: TIdentifier[][]): TIdentifier[] {
  const seen = new Map<string, TIdentifier>();
  for (const list of lists) for (const i of list) seen.set(identifierKey(i), i);
  return [...seen.values()];
}

/**
 * Decides what can be decided of an event before the database is read: id, channel, stage (capped
 * at the door's ceiling, null for none), time.
 */
export function prepare(
  event: TDomainEvent,
  index: number,
  identifiers: TIdentifier[],
  batch: { sentAt: string | undefined; site: TSite; ceiling: TFunnelStage | null; now: Date },
): TPrepared {
  const { sentAt, site, ceiling, now } = batch;
  const { referrer, path, utm } = event;
  const { channel, rule } = categorizeChannel({ referrer, path, utm, siteDomain: site.domain });
  const requested = stageForEvent(event.type);
  const stage = cappedStage(requested, ceiling);
  return {
    index,
    event,
    identifiers,
    channel,
    channelRule: rule,
    id: newId("evt"),
    occurredAt: occurredAt(event.timestamp, sentAt, now),
    stage,
    stageCapped: stage === requested ? undefined : { requested, ceiling: stage },
  };
}

/** Clock-skew correction: with `sentAt`, occurredAt = receivedAt − (sentAt − timestamp). */
export function occurredAt(timestamp: string | undefined, sentAt: string | undefined, receivedAt: Date): Date {
  if (!timestamp) return receivedAt;
  const ts = Date.parse(timestamp);
  return new Date(sentAt ? receivedAt.getTime() - (Date.parse(sentAt) - ts) : ts);
}
