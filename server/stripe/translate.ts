import { z } from "zod";
import type { TIssue } from "../errors/domain-error.ts";
import type { TDomainEvent } from "../tracking/ingest/prepare.ts";
import { ZServerEvent } from "../tracking/server-event.schema.ts";

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

const ZCustomerId = z.union([z.string(), z.object({ id: z.string() }).transform((c) => c.id)]);

const ZCheckoutSession = z.object({
  id: z.string(),
  client_reference_id: z.string().nullish(),
  customer: ZCustomerId.nullish(),
  customer_details: z.object({ email: z.string().nullish() }).nullish(),
  customer_email: z.string().nullish(),
  mode: z.string().nullish(),
  subscription: ZCustomerId.nullish(),
  amount_total: z.number().nullish(),
  currency: z.string().nullish(),
});

const ZSubscription = z.object({ id: z.string(), customer: ZCustomerId, status: z.string() });

export type TTranslation =
  | { kind: "event"; event: TDomainEvent }
  | { kind: "ignored"; reason: "unhandled_type" | "no_identity" }
  | { kind: "invalid"; issues: TIssue[] };

export function isHandled(type: string): type is THandledType {
  return (HANDLED_STRIPE_EVENTS as readonly string[]).includes(type);
}

/**
 * One Stripe event as one server event of the domain use case. The Stripe event id is the
 * messageId (Stripe redelivers the same id, so a redelivery is a duplicate) and its `created` the
 * time it happened. The public fields go through the public event schema, so the same limits apply.
 */
export function translateStripeEvent(stripe: TStripeEvent): TTranslation {
  if (!isHandled(stripe.type)) return { kind: "ignored", reason: "unhandled_type" };
  const parts = stripe.type === "checkout.session.completed" ? fromCheckout(stripe) : fromSubscription(stripe);
  if (!parts.ok) return { kind: "invalid", issues: toIssues(parts.issues, (path) => path) };
  const { stripeCustomerId, ...publicPart } = parts.event;
  if (publicPart.visitorId === undefined && publicPart.email === undefined && stripeCustomerId === undefined)
    return { kind: "ignored", reason: "no_identity" };
  const checked = ZEventFields.safeParse({ ...publicPart, messageId: stripe.id, timestamp: isoOf(stripe.created) });
  if (!checked.success) return { kind: "invalid", issues: toIssues(checked.error.issues, stripeFieldOf) };
  return { kind: "event", event: { ...checked.data, ...(stripeCustomerId ? { stripeCustomerId } : {}) } };
}

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

/** Issues as the error envelope carries them, under the event's `data.object`. */
function toIssues(issues: z.core.$ZodIssue[], sourceOf: (path: PropertyKey[]) => PropertyKey[]): TIssue[] {
  return issues.map((i) => ({
    path: ["data", "object", ...sourceOf(i.path).map((p) => (typeof p === "number" ? p : String(p)))],
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
      ...(email ? { email } : {}),
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
