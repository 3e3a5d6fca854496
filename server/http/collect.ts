import { Router, type NextFunction, type Request, type Response } from "express";
import { DomainError, validationFailed } from "../errors/domain-error.ts";
import { consumePoint } from "../infra/rate-limit.ts";
import { isBotUserAgent } from "../tracking/bots.ts";
import { collectSiteId, withUtmFromPath, ZCollectBody, type TCollectBody } from "../tracking/collect.schema.ts";
import { countCollectRefusal, type TCollectRefusalReason } from "../tracking/collect-refusals.repo.ts";
import { withoutEmailHmacs, withVerifiedEmails } from "../tracking/identity-verification.ts";
import { openIdentitySecret } from "../tracking/identity-verification.repo.ts";
import { ingestEvents } from "../tracking/ingest/ingest-events.ts";
import type { TDeps } from "../deps.ts";
import { findSiteById, type TSiteDomain } from "../workspaces/workspaces.repo.ts";
import { jsonBody } from "./body.ts";
import { clientIp } from "./client-ip.ts";
import { allowOrigin, answerPreflight, originMatchesDomain, originRefused } from "./collect-cors.ts";
import { sendError } from "./errors.ts";
import { noStore } from "./security-headers.ts";

const METRIC = "collect_requests_total";
const METRIC_HELP = "Tracking snippet batches (POST /api/collect) by outcome.";

/**
 * The media types a batch may come in. The snippet sends `text/plain;charset=UTF-8` JSON: with
 * that type a cross-origin POST needs no preflight, and `navigator.sendBeacon` sends it at all.
 */
const COLLECT_MEDIA_TYPE = /^(text\/plain|application\/json)\s*(;|$)/i;

const UNVERIFIED_METRIC = "collect_unverified_emails_total";
const UNVERIFIED_METRIC_HELP = "Browser emails dropped for want of a valid identity-verification HMAC.";

type TCollectSite = TSiteDomain;
type TCollectEvent = TCollectBody["events"][number];

/**
 * `POST /api/collect` (and its CORS preflight): the tracking snippet's door. Public — no
 * session, no CSRF guard, no API key — so it is mounted before all three; what stands in for
 * authentication is the site's domain, which the page's Origin must match, and rate limits per
 * client IP, per site and client IP (identities) and per visitor. Batches are recorded by the
 * one ingest use case as CLIENT events.
 */
export function collectRoutes(deps: TDeps): Router {
  const routes = Router();
  const readBody = jsonBody(deps.config.limits.bodyBytes, deps);
  routes.options(
    "/",
    noStore,
    (req, res, next) => void limitIp(deps, req, res, next),
    (req, res, next) => {
      preflight(deps, req, res).catch(next);
    },
  );
  routes.post(
    "/",
    noStore,
    (req, res, next) => void limitIp(deps, req, res, next),
    (req, res, next) => refuseMediaType(req, res, next),
    readBody,
    (req, res, next) => {
      handle(deps, req, res).catch(next);
    },
  );
  return routes;
}

async function preflight(deps: TDeps, req: Request, res: Response): Promise<void> {
  res.setHeader("Vary", "Origin");
  const site = await siteFor(deps, req, undefined);
  if (site instanceof DomainError) return sendError(req, res, site);
  const origin = req.headers.origin;
  if (!originMatchesDomain(origin, site.domain)) return sendError(req, res, originRefused(origin, site.domain));
  answerPreflight(res, origin!);
}

async function limitIp(deps: TDeps, req: Request, res: Response, next: NextFunction): Promise<void> {
  try {
    await consumePoint(deps.limiters.collectPerIp, clientIp(req), "Too many tracking requests from this address");
    next();
  } catch (err) {
    countOutcome(deps, err instanceof DomainError ? err.code.toLowerCase() : "error");
    sendError(req, res, err);
  }
}

function refuseMediaType(req: Request, res: Response, next: NextFunction): void {
  const type = req.headers["content-type"] ?? "";
  if (COLLECT_MEDIA_TYPE.test(type)) return next();
  const got = type ? `"${type}"` : "no content type";
  sendError(
    req,
    res,
    new DomainError("UNSUPPORTED_MEDIA_TYPE", `Send the batch as text/plain or application/json (got ${got})`, [
      { path: ["content-type"], code: "unsupported", message: "must be text/plain or application/json, UTF-8" },
    ]),
  );
}

async function handle(deps: TDeps, req: Request, res: Response): Promise<void> {
  res.setHeader("Vary", "Origin");
  const body: unknown = req.body;
  const site = await siteFor(deps, req, body);
  if (site instanceof DomainError) return sendError(req, res, site);
  const origin = req.headers.origin;
  if (!originMatchesDomain(origin, site.domain)) {
    countOutcome(deps, "origin_refused");
    await countRefusal(deps, site.id, "origin_refused");
    return sendError(req, res, originRefused(origin, site.domain));
  }
  allowOrigin(res, origin!);
  if (isBotUserAgent(req.headers["user-agent"])) {
    countOutcome(deps, "bot");
    await countRefusal(deps, site.id, "bot");
    return void res.status(202).json({ received: true, outcome: "ignored", reason: "bot" });
  }
  const parsed = ZCollectBody.safeParse(body);
  if (!parsed.success) {
    countOutcome(deps, "invalid");
    await countRefusal(deps, site.id, "invalid");
    return sendError(req, res, validationFailed(parsed.error.issues));
  }
  const { sentAt } = parsed.data;
  await limitIdentities(deps, req, site.id, parsed.data.events);
  const { events, unverified } = verifiedEvents(deps, site, parsed.data.events);
  // Every event was an unverified email alone: nothing whose it is is left to record.
  const result =
    events.length === 0
      ? { accepted: 0, duplicates: 0 }
      : await ingestEvents(deps.db, {
          workspaceId: site.workspaceId,
          actor: { kind: "browser", siteId: site.id },
          body: { siteId: site.id, sentAt, events: events.map(withUtmFromPath) },
        });
  countOutcome(deps, "recorded");
  if (unverified > 0) {
    deps.metrics.inc(UNVERIFIED_METRIC, UNVERIFIED_METRIC_HELP, {}, unverified);
    await countRefusal(deps, site.id, "unverified_email", unverified);
  }
  res.json({
    received: true,
    outcome: "recorded",
    accepted: result.accepted,
    duplicates: result.duplicates,
    // A count only: the public door says nothing about which email failed or why.
    ...(site.requireIdentityVerification ? { unverifiedEmails: unverified } : {}),
  });
}

/**
 * A site that requires identity verification keeps an email only with its valid HMAC; one that
 * does not takes emails as sent and ignores `emailHmac`.
 */
function verifiedEvents(deps: TDeps, site: TCollectSite, events: TCollectEvent[]) {
  if (!site.requireIdentityVerification) return { events: withoutEmailHmacs(events), unverified: 0 };
  return withVerifiedEmails(events, openIdentitySecret(deps.config.secrets.key, site.identitySecret));
}

/** The batch's site, from the `site` query parameter or the body's `siteId`; 400/404 naming `siteId` if none. */
async function siteFor(deps: TDeps, req: Request, body: unknown): Promise<TCollectSite | DomainError> {
  const bodySiteId = isRecord(body) && typeof body.siteId === "string" ? body.siteId : undefined;
  const siteId = collectSiteId(bodySiteId, req.query.site);
  if (typeof siteId !== "string") return validationFailed([siteId]);
  const site = siteId.length <= 40 ? await findSiteById(deps.db, siteId) : undefined;
  if (site) return site;
  countOutcome(deps, "unknown_site");
  return new DomainError("NOT_FOUND", `No tracking site ${JSON.stringify(siteId.slice(0, 40))}`, [
    { path: ["siteId"], code: "unknown_site", message: "is not the id of a tracking site (see the install code)" },
  ]);
}

/**
 * One point per distinct identity of the batch (its visitor ids, and the emails of events without
 * one: each may be a new profile) per site and client IP, so one address cannot mint profiles
 * however it batches; then one point per distinct visitor, so one browser cannot flood a site.
 */
async function limitIdentities(
  deps: TDeps,
  req: Request,
  siteId: string,
  events: { visitorId?: string; email?: string }[],
): Promise<void> {
  const visitors = new Set(events.flatMap((e) => (e.visitorId === undefined ? [] : [e.visitorId])));
  const emailsOnly = new Set(events.flatMap((e) => (e.visitorId === undefined && e.email ? [e.email] : [])));
  try {
    await consumePoint(
      deps.limiters.collectIdentitiesPerIp,
      `${siteId}:${clientIp(req)}`,
      "Too many visitors and emails from this address",
      visitors.size + emailsOnly.size,
    );
  } catch (err) {
    countOutcome(deps, err instanceof DomainError ? `identity_${err.code.toLowerCase()}` : "error");
    await countRateLimited(deps, siteId, err);
    throw err;
  }
  try {
    for (const visitorId of visitors) {
      await consumePoint(deps.limiters.collectPerVisitor, `${siteId}:${visitorId}`, "Too many tracking requests");
    }
  } catch (err) {
    countOutcome(deps, err instanceof DomainError ? `visitor_${err.code.toLowerCase()}` : "error");
    await countRateLimited(deps, siteId, err);
    throw err;
  }
}

/**
 * The site's count of refusals for the dashboard (docs/collect.md "Ignored traffic"). A failure to
 * count is logged and never changes the answer: the refusal itself is what the client must get.
 */
async function countRefusal(deps: TDeps, siteId: string, reason: TCollectRefusalReason, count = 1): Promise<void> {
  try {
    await countCollectRefusal(deps.db, siteId, reason, count);
  } catch (err) {
    deps.logger.warn("collect refusal not counted", { siteId, reason, error: String(err) });
  }
}

async function countRateLimited(deps: TDeps, siteId: string, err: unknown): Promise<void> {
  if (err instanceof DomainError && err.code === "RATE_LIMITED") await countRefusal(deps, siteId, "rate_limited");
}

function countOutcome(deps: TDeps, outcome: string): void {
  deps.metrics.inc(METRIC, METRIC_HELP, { outcome });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
