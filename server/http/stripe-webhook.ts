import express, { Router, type Request, type Response } from "express";
import Stripe from "stripe";
import { DomainError } from "../errors/domain-error.ts";
import { sendError } from "./errors.ts";
import { noStore } from "./security-headers.ts";
import type { TDeps } from "../deps.ts";
import { ingestEvents } from "../tracking/ingest/ingest-events.ts";
import { translateStripeEvent, type TStripeEvent } from "../stripe/translate.ts";
import { findStripeSite } from "../stripe/webhook-secret.ts";

/**
 * Stripe's own default: a signature older than 5 minutes is refused, which bounds replays. One
 * dated more than 5 minutes ahead is refused too (`constructEvent` checks only age, so a signature
 * made with a stolen secret and a future date would stay replayable until that date).
 */
export const STRIPE_TOLERANCE_SECONDS = 300;

const METRIC = "stripe_webhook_events_total";
const METRIC_HELP = "Stripe webhook deliveries by Stripe event type, outcome and, for ignored ones, reason.";

/**
 * `POST /api/webhooks/stripe/:siteId`: Stripe's deliveries for one site, verified against the
 * site's signing secret over the raw body bytes (so it is mounted before any JSON parser), with
 * no session and no CSRF check (Stripe has neither; the signature is the authentication).
 */
export function stripeWebhookRoutes(deps: TDeps): Router {
  const routes = Router();
  const rawBody = express.raw({ type: () => true, limit: deps.config.limits.bodyBytes, inflate: false });
  routes.post("/:siteId", noStore, rawBody, (req, res, next) => {
    handle(deps, req, res).catch(next);
  });
  return routes;
}

async function handle(deps: TDeps, req: Request, res: Response): Promise<void> {
  const event = await verify(deps, req);
  if (!event) {
    deps.metrics.inc(METRIC, METRIC_HELP, { type: "unverified", outcome: "invalid_signature", reason: "" });
    return sendError(req, res, invalidSignature());
  }
  const { site, stripeEvent } = event;
  const translated = translateStripeEvent(stripeEvent);
  const type =
    typeof stripeEvent.type === "string" && STRIPE_TYPE.test(stripeEvent.type) ? stripeEvent.type : "invalid";
  const count = (outcome: string, reason = "") => deps.metrics.inc(METRIC, METRIC_HELP, { type, outcome, reason });
  // A verified event we cannot use is acknowledged, never refused: Stripe retries every non-2xx
  // answer for 3 days, and the same bytes would be refused each time.
  if (translated.kind === "ignored") {
    count("ignored", translated.reason);
    if (translated.reason !== "invalid_field")
      return void res.json({ received: true, outcome: "ignored", reason: translated.reason });
    const { issues } = translated;
    deps.logger.warn("stripe event ignored: a field is unusable", { stripeEventId: stripeEvent.id, issues });
    const field = issues[0]?.path.join(".");
    return void res.json({ received: true, outcome: "ignored", reason: "invalid_field", field, issues });
  }
  const result = await ingestEvents(deps.db, {
    workspaceId: site.workspaceId,
    actor: { kind: "stripe", eventId: translated.event.messageId ?? stripeEvent.id },
    body: { siteId: site.siteId, events: [translated.event] },
  });
  const recorded = result.events[0];
  count(recorded?.status ?? "recorded");
  res.json({ received: true, outcome: recorded?.status, eventId: recorded?.eventId, profileId: recorded?.profileId });
}

/** The verified event and its site, or undefined for any reason it cannot be trusted. */
async function verify(deps: TDeps, req: Request) {
  const signature = req.headers["stripe-signature"];
  if (typeof signature !== "string" || !Buffer.isBuffer(req.body)) return undefined;
  if (isFromTheFuture(signature, Date.now())) return undefined;
  const site = await findStripeSite(deps.db, deps.config.secrets.key, String(req.params.siteId));
  if (!site) return undefined;
  try {
    const stripeEvent = Stripe.webhooks.constructEvent(
      req.body,
      signature,
      site.secret,
      STRIPE_TOLERANCE_SECONDS,
    ) as unknown as TStripeEvent;
    return { site, stripeEvent };
  } catch (err) {
    if (err instanceof Stripe.errors.StripeSignatureVerificationError) return undefined;
    throw err;
  }
}

/** Stripe's event type names; anything else is counted under type "invalid" (metric labels stay few). */
const STRIPE_TYPE = /^[A-Za-z0-9_.]{1,100}$/;

/**
 * Whether the header's `t=` (read as Stripe's own parser does: the last `t`, parseInt) lies more
 * than the tolerance ahead of `now`.
 */
export function isFromTheFuture(header: string, now: number): boolean {
  let timestamp = Number.NaN;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key === "t") timestamp = Number.parseInt(value ?? "", 10);
  }
  return timestamp - Math.floor(now / 1000) > STRIPE_TOLERANCE_SECONDS;
}

/**
 * One answer for a bad, missing or expired signature, an unknown site and a site without a secret:
 * telling them apart would tell a stranger which site ids exist and which are connected.
 */
function invalidSignature(): DomainError {
  return new DomainError("INVALID_SIGNATURE", "The Stripe-Signature header does not verify for this endpoint", [
    {
      path: ["stripe-signature"],
      code: "invalid_signature",
      message: "missing, wrong, or dated more than 5 minutes from now, or no signing secret is set for this site",
    },
  ]);
}
