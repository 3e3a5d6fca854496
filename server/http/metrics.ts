import { createHash, timingSafeEqual } from "node:crypto";
import express, { Router, type Express, type RequestHandler } from "express";
import { DomainError } from "../errors/domain-error.ts";
import type { Metrics } from "../infra/metrics.ts";
import { sendError } from "./errors.ts";

/** Compared as digests, so neither the token's bytes nor its length leak through timing. */
function sameToken(given: string, token: string): boolean {
  const digest = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** GET /metrics: Prometheus text; with a token, only for `Authorization: Bearer <token>` (401 otherwise). */
function renderMetrics(metrics: Metrics, token: string | undefined): RequestHandler {
  return async (req, res) => {
    if (token !== undefined) {
      const given = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (given === undefined || !sameToken(given, token)) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="metrics"');
        return sendError(
          req,
          res,
          new DomainError("UNAUTHENTICATED", "/metrics needs Authorization: Bearer <METRICS_TOKEN>"),
        );
      }
    }
    res.type(metrics.contentType).send(await metrics.render());
  };
}

/** `/metrics` on the public port: only with a token configured, and behind it. */
export function metricsRoutes(metrics: Metrics, token: string): Router {
  const routes = Router();
  routes.get("/metrics", renderMetrics(metrics, token));
  return routes;
}

/**
 * The metrics listener's app (its own port, loopback by default): `/metrics` and nothing else,
 * behind the token when one is configured.
 */
export function metricsApp(metrics: Metrics, token: string | undefined): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", renderMetrics(metrics, token));
  app.use((req, res) => sendError(req, res, new DomainError("NOT_FOUND", `No route for ${req.method} ${req.path}`)));
  return app;
}
