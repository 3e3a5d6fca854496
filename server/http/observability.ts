import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import { newId } from "../db/ids.ts";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Low-cardinality route label: ids in paths become `{id}`. */
export function routeLabel(path: string): string {
  return path.replace(/\/[a-z]+_[0-9a-z]{10,}(?=\/|$)/g, "/{id}").slice(0, 120);
}

/** A sane incoming `X-Request-Id` is kept, so calls can be traced across services. */
function assignRequestId(req: IncomingMessage, res: ServerResponse & { locals: Record<string, unknown> }): string {
  const incoming = req.headers["x-request-id"];
  const requestId = typeof incoming === "string" && INCOMING_ID.test(incoming) ? incoming : newId("req");
  res.locals.requestId = requestId;
  res.setHeader("X-Request-Id", requestId);
  return requestId;
}

function routeOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "";
  return routeLabel(url.split("?")[0] ?? "");
}

/**
 * Gives every request an id and echoes it, measures it, and logs one line when it finishes (or
 * its connection closes first) with the fields log queries rely on: `msg: "request"`,
 * `requestId`, `method`, `path` (the route label), `status`, `ms`. Headers are not logged.
 * Written by hand rather than with pino-http, which builds three child loggers (one serializing
 * the whole request) on every request only to print this one line.
 */
export function requestObservability(logger: TLogger, metrics: Metrics): RequestHandler {
  const log = logger.pino;
  return (req, res, next) => {
    const startedMs = Date.now();
    const started = process.hrtime.bigint();
    const requestId = assignRequestId(req, res);
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest({ method: req.method, route: routeOf(req), status: String(res.statusCode) }, seconds);
    });
    const complete = () => {
      res.off("close", complete).off("finish", complete).off("error", complete);
      const fields = { requestId, method: req.method, path: routeOf(req), status: res.statusCode };
      log.info({ ...fields, ms: Date.now() - startedMs }, "request");
    };
    res.on("close", complete).on("finish", complete).on("error", complete);
    next();
  };
}
