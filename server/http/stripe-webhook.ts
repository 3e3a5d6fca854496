import express, { Router, type Request, type Response } from "express";
import Stripe from "stripe";
import { DomainError } from "../errors/domain-error.ts";
import { sendError } from "./errors.ts";
import { noStore } from "./security-headers.ts";
import type { TDeps } from "../deps.ts";
import { ingestEvents } from "../tracking/ingest/ingest-events.ts";
import { translateStripeEvent, type TStripeEvent } from "../stripe/translate.ts";
import { findStripeSite } from "../stripe/webhook-secret.ts";

/** Stripe's own default: a signature older (or newer) than 5 minutes is refused, which bounds replays. */
export const STRIPE_TOLERANCE_SECONDS = 300;

const METRIC = "stripe_webhook_events_total";
const METRIC_HELP = "Stripe webhook deliveries by Stripe event type and outcome.";

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
    deps.metrics.inc(METRIC, METRIC_HELP, { type: "unverified", outcome: "invalid_signature" });
    return sendError(req, res, invalidSignature());
  }
  const { site, stripeEvent } = event;
  const translated = translateStripeEvent(stripeEvent);
  const count = (outcome: string) => deps.metrics.inc(METRIC, METRIC_HELP, { type: stripeEvent.type, outcome });
  if (translated.kind === "ignored") {
    count(translated.reason === "unhandled_type" ? "ignored" : "no_identity");
    return void res.json({ received: true, outcome: "ignored", reason: translated.reason });
  }
  if (translated.kind === "invalid") {
    count("invalid");
    const error = new DomainError("VALIDATION_FAILED", "The Stripe event cannot be recorded", translated.issues);
    return sendError(req, res, error);
  }
  const result = await ingestEvents(deps.db, {
    workspaceId: site.workspaceId,
    actor: { kind: "stripe", eventId: stripeEvent.id },
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

/**
 * One answer for a bad, missing or expired signature, an unknown site and a site without a secret:
 * telling them apart would tell a stranger which site ids exist and which are connected.
 */
function invalidSignature(): DomainError {
  return new DomainError("INVALID_SIGNATURE", "The Stripe-Signature header does not verify for this endpoint", [
    {
      path: ["stripe-signature"],
      code: "invalid_signature",
      message: "missing, wrong or older than 5 minutes, or no signing secret is set for this site",
    },
  ]);
}
