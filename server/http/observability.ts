import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import { pinoHttp } from "pino-http";
import { newId } from "../db/ids.ts";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Low-cardinality route label: ids in paths become `{id}`. */
export function routeLabel(path: string): string {
  return path.replace(/\/[a-z]+_[0-9a-z]{10,}(?=\/|$)/g, "/{id}").slice(0, 120);
}

/** A sane incoming `X-Request-Id` is kept, so calls can be traced across services. */
function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers["x-request-id"];
  const requestId = typeof incoming === "string" && INCOMING_ID.test(incoming) ? incoming : newId("req");
  (res as ServerResponse & { locals: Record<string, unknown> }).locals.requestId = requestId;
  res.setHeader("X-Request-Id", requestId);
  return requestId;
}

function routeOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "";
  return routeLabel(url.split("?")[0] ?? "");
}

/**
 * Gives every request an id and echoes it, measures it, and logs one line when it finishes
 * (pino-http) with the fields log queries rely on: `msg: "request"`, `requestId`, `method`,
 * `path` (the route label), `status`, `ms`. Headers are not logged; cookies and authorization
 * would be redacted by the logger if they were.
 */
export function requestObservability(logger: TLogger, metrics: Metrics): RequestHandler {
  const log = pinoHttp({
    logger: logger.pino,
    genReqId: assignRequestId,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: "requestId", responseTime: "ms" },
    customLogLevel: () => "info",
    customProps: (req, res) => ({ method: req.method, path: routeOf(req), status: res.statusCode }),
    customSuccessMessage: () => "request",
    customErrorMessage: () => "request",
    customSuccessObject: (_req, _res, value: { ms: number }) => ({ ms: value.ms }),
    customErrorObject: (_req, _res, _err, value: { ms: number }) => ({ ms: value.ms }),
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest({ method: req.method, route: routeOf(req), status: String(res.statusCode) }, seconds);
    });
    log(req, res, next);
  };
}
