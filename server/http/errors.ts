import type { ErrorRequestHandler, Request, Response } from "express";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError, type TDomainErrorCode } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import { errorEnvelope } from "../errors/error-envelope.ts";
import { clientFaultOf, recordClientFault, type TClientFaultKind } from "./client-faults.ts";

/**
 * Errors raised by Express itself (CSRF guard, body parser, session store) in the same shape
 * the procedures answer with: REST `{ message, code, data }`, tRPC `{ error: { message, code, data } }`.
 */
export function sendError(req: Request, res: Response, err: unknown): void {
  const { message, data } = errorEnvelope(err, { requestId: requestIdOf(res) });
  if (err instanceof DomainError && err.retryAfterSeconds !== undefined)
    res.setHeader("Retry-After", String(err.retryAfterSeconds));
  const isTrpc = req.originalUrl.startsWith("/api/trpc");
  const body = isTrpc
    ? { error: { message, code: TRPC_ERROR_CODES_BY_KEY[data.code], data } }
    : { message, code: data.code, data };
  res.status(data.httpStatus).json(body);
}

/** Set by the request-id middleware before any route; a string or absent. */
function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals.requestId;
  return typeof id === "string" ? id : undefined;
}

/** What each client fault from reading a body is answered with. */
const CLIENT_FAULT_ERRORS: Record<TClientFaultKind, [TDomainErrorCode, string]> = {
  // Nobody reads this answer (the client is gone), but the request's log line gets its status.
  aborted: ["MALFORMED_JSON", "Request body ended early: the client aborted the request"],
  too_large: ["PAYLOAD_TOO_LARGE", "Request body too large"],
  malformed: ["MALFORMED_JSON", "Request body is not valid JSON"],
  unsupported_encoding: ["UNSUPPORTED_MEDIA_TYPE", "Unsupported content encoding or charset; send UTF-8 JSON"],
  invalid: ["VALIDATION_FAILED", "Input validation failed"],
};

/**
 * The last handler: JSON errors everywhere, never Express's HTML page or a stack trace. Only an
 * error of ours reaches the error log; what a client caused is counted and logged at info.
 */
export function jsonErrorHandler(logger: TLogger, metrics: Metrics): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const fault = clientFaultOf(err);
    if (fault) {
      recordClientFault({ logger, metrics }, req, res, fault, err instanceof Error ? err.message : String(err));
      if (res.headersSent) return void res.end();
      return sendError(req, res, new DomainError(...CLIENT_FAULT_ERRORS[fault]));
    }
    if (res.headersSent) return void res.end();
    if (isTransientDatabaseError(err)) return sendError(req, res, databaseUnavailable(err));
    if (!(err instanceof DomainError))
      logger.error("unhandled error", { err, requestId: requestIdOf(res), path: req.originalUrl });
    sendError(req, res, err);
  };
}
