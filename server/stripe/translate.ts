import { z } from "zod";
import { EARLIEST_EVENT_TIME } from "../db/storable.ts";
import type { TIssue } from "../errors/domain-error.ts";
import type { TDomainEvent } from "../tracking/ingest/prepare.ts";
import { MAX_FUTURE_SKEW_MS, ZIdentifier, ZServerEvent, ZText } from "../tracking/server-event.schema.ts";

/** The Stripe event types the mirror records; every other type is acknowledged and ignored. */
export const HANDLED_STRIPE_EVENTS = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
] as const;

type THandledType = (typeof HANDLED_STRIPE_EVENTS)[number];

/** What we read of a verified Stripe event (the rest of Stripe's object is ignored). */
export type TStripeEvent = { id: string; type: string; created: number; data: { object: unknown } };

/**
 * Every field read from Stripe's payload has the public API's rules (storable, bounded, not
 * empty, not a placeholder): a signature proves who sent the bytes, not that they fit a column.
 * 254 is the identifier column's width.
 */
const ZStripeId = ZIdentifier(254);

/** `customer` and `subscription` come as an id, or as the expanded object carrying it. */
const ZExpandableId = z.preprocess((v) => (typeof v === "object" && v !== null && "id" in v ? v.id : v), ZStripeId);

/** Amounts are integers in the currency's smallest unit; one JSON.parse altered (beyond 2^53, -0) is refused. */
const ZAmount = z
  .number()
  .int("must be an integer")
  .safe("must be at most 2^53 − 1 (a larger one was already altered by JSON parsing)")
  .refine((n) => !Object.is(n, -0), "must not be -0 (it would be stored as 0)");

const ZEnvelope = z.object({
  id: ZIdentifier(128),
  type: z.string().regex(/^[A-Za-z0-9_.]{1,100}$/, "must be a Stripe event type"),
  created: z
    .number()
    .int("must be whole seconds")
    .refine(
      (t) => t * 1000 >= EARLIEST_EVENT_TIME && t * 1000 - Date.now() <= MAX_FUTURE_SKEW_MS,
      "must lie between 2000-01-01 and 1 hour from now",
    ),
  data: z.object({ object: z.unknown() }),
});

const ZCheckoutSession = z.object({
  id: ZStripeId,
  client_reference_id: ZIdentifier(128).nullish(),
  customer: ZExpandableId.nullish(),
  customer_details: z.object({ email: z.string().nullish() }).nullish(),
  customer_email: z.string().nullish(),
  mode: ZText(64).nullish(),
  subscription: ZExpandableId.nullish(),
  amount_total: ZAmount.nullish(),
  currency: ZText(64).nullish(),
});

/** The status becomes the event type `subscription_<status>`, whose rule it must fit. */
const ZSubscription = z.object({
  id: ZStripeId,
  customer: ZExpandableId,
  status: z.string().regex(/^[A-Za-z0-9_]{1,50}$/, "must be 1-50 characters of A-Z a-z 0-9 _"),
});

/** A verified event is recorded, or acknowledged and ignored with the reason (never refused: see the webhook). */
export type TTranslation =
  | { kind: "event"; event: TDomainEvent }
  | { kind: "ignored"; reason: "unhandled_type" | "no_identity" }
  | { kind: "ignored"; reason: "invalid_field"; issues: TIssue[] };

export function isHandled(type: string): type is THandledType {
  return (HANDLED_STRIPE_EVENTS as readonly string[]).includes(type);
}

/**
 * One Stripe event as one server event of the domain use case. The Stripe event id is the
 * messageId (Stripe redelivers the same id, so a redelivery is a duplicate) and its `created` the
 * time it happened. The public fields go through the public event schema, so the same limits apply.
 */
export function translateStripeEvent(raw: unknown): TTranslation {
  const envelope = ZEnvelope.safeParse(raw);
  if (!envelope.success) return invalid(toIssues(envelope.error.issues, [], (path) => path));
  const stripe = envelope.data;
  if (!isHandled(stripe.type)) return { kind: "ignored", reason: "unhandled_type" };
  const parts = stripe.type === "checkout.session.completed" ? fromCheckout(stripe) : fromSubscription(stripe);
  if (!parts.ok) return invalid(toIssues(parts.issues, ["data", "object"], (path) => path));
  const { stripeCustomerId, ...publicPart } = parts.event;
  if (publicPart.visitorId === undefined && publicPart.email === undefined && stripeCustomerId === undefined)
    return { kind: "ignored", reason: "no_identity" };
  const checked = ZEventFields.safeParse({ ...publicPart, messageId: stripe.id, timestamp: isoOf(stripe.created) });
  if (!checked.success) return invalid(toIssues(checked.error.issues, ["data", "object"], stripeFieldOf));
  return { kind: "event", event: { ...checked.data, ...(stripeCustomerId ? { stripeCustomerId } : {}) } };
}

const invalid = (issues: TIssue[]): TTranslation => ({ kind: "ignored", reason: "invalid_field", issues });

/**
 * The public event's fields and limits, without its "needs visitorId, email or userId" rule: a
 * subscription event's only identity is the Stripe customer id, which the public schema lacks.
 */
const ZEventFields = z.strictObject(ZServerEvent.shape);

/** Where in Stripe's object a field of our event came from, so a refusal names the Stripe field. */
const STRIPE_FIELDS: Record<string, PropertyKey[]> = {
  visitorId: ["client_reference_id"],
  email: ["customer_details", "email"],
};

function stripeFieldOf(path: PropertyKey[]): PropertyKey[] {
  const [head, ...rest] = path;
  return [...(STRIPE_FIELDS[String(head)] ?? path.slice(0, 1)), ...rest];
}

/** Issues as the error envelope carries them, under `root` of the Stripe event. */
function toIssues(
  issues: z.core.$ZodIssue[],
  root: string[],
  sourceOf: (path: PropertyKey[]) => PropertyKey[],
): TIssue[] {
  return issues.map((i) => ({
    path: [...root, ...sourceOf(i.path).map((p) => (typeof p === "number" ? p : String(p)))],
    code: i.code,
    message: i.message,
  }));
}

const isoOf = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

type TParts =
  | { ok: true; event: Record<string, unknown> & { stripeCustomerId?: string; visitorId?: string; email?: string } }
  | { ok: false; issues: z.core.$ZodIssue[] };

function fromCheckout(stripe: TStripeEvent): TParts {
  const parsed = ZCheckoutSession.safeParse(stripe.data.object);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  const s = parsed.data;
  const email = s.customer_details?.email ?? s.customer_email ?? undefined;
  const props = {
    checkoutSessionId: s.id,
    ...(s.mode ? { mode: s.mode } : {}),
    ...(s.subscription ? { subscriptionId: s.subscription } : {}),
    ...(s.amount_total !== null && s.amount_total !== undefined ? { amountTotal: s.amount_total } : {}),
    ...(s.currency ? { currency: s.currency } : {}),
  };
  return {
    ok: true,
    event: {
      type: "checkout_completed",
      ...(s.client_reference_id ? { visitorId: s.client_reference_id } : {}),
      ...(email !== undefined && email !== null ? { email } : {}),
      ...(s.customer ? { stripeCustomerId: s.customer } : {}),
      props,
    },
  };
}

/** `trialing` → subscription_trialing, `active` → subscription_active…; deleted → subscription_canceled. */
function fromSubscription(stripe: TStripeEvent): TParts {
  const parsed = ZSubscription.safeParse(stripe.data.object);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  const sub = parsed.data;
  const type = stripe.type === "customer.subscription.deleted" ? "subscription_canceled" : `subscription_${sub.status}`;
  return {
    ok: true,
    event: { type, stripeCustomerId: sub.customer, props: { subscriptionId: sub.id, status: sub.status } },
  };
}
