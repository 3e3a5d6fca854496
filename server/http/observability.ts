import type { RequestHandler } from "express";
import { newId } from "../db/ids.ts";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Low-cardinality route label: ids in paths become `{id}`. */
export function routeLabel(path: string): string {
  return path.replace(/\/[a-z]+_[0-9a-z]{10,}(?=\/|$)/g, "/{id}").slice(0, 120);
}

/**
 * Gives every request an id (a sane incoming `X-Request-Id` is kept, so calls can be traced
 * across services), echoes it, and logs and measures the request when it finishes.
 */
export function requestObservability(logger: TLogger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && INCOMING_ID.test(incoming) ? incoming : newId("req");
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req.originalUrl.split("?")[0] ?? "");
      metrics.observeRequest({ method: req.method, route, status: String(res.statusCode) }, seconds);
      logger.info("request", { requestId, method: req.method, path: route, status: res.statusCode, ms: Math.round(seconds * 1000) });
    });
    next();
  };
}
