import type { ErrorRequestHandler, Request, Response } from "express";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError, type TDomainErrorCode } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import { errorEnvelope } from "../trpc/error-envelope.ts";

/**
 * Errors raised by Express itself (CSRF guard, body parser, session store) in the same shape
 * the procedures answer with: REST `{ message, code, data }`, tRPC `{ error: { message, code, data } }`.
 */
export function sendError(req: Request, res: Response, err: unknown): void {
  const { message, data } = errorEnvelope(err, { requestId: res.locals.requestId });
  if (err instanceof DomainError && err.retryAfterSeconds !== undefined)
    res.setHeader("Retry-After", String(err.retryAfterSeconds));
  const isTrpc = req.originalUrl.startsWith("/api/trpc");
  const body = isTrpc
    ? { error: { message, code: TRPC_ERROR_CODES_BY_KEY[data.code], data } }
    : { message, code: data.code, data };
  res.status(data.httpStatus).json(body);
}

const BODY_PARSER_ERRORS: Record<string, [TDomainErrorCode, string]> = {
  "entity.too.large": ["PAYLOAD_TOO_LARGE", "Request body too large"],
  "entity.parse.failed": ["MALFORMED_JSON", "Request body is not valid JSON"],
  "encoding.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "Unsupported content encoding"],
  "charset.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "Unsupported charset; send UTF-8 JSON"],
};

/** The last handler: JSON errors everywhere, never Express's HTML page or a stack trace. */
export function jsonErrorHandler(logger: TLogger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return void res.end();
    const parser = typeof err?.type === "string" ? BODY_PARSER_ERRORS[err.type] : undefined;
    if (parser) return sendError(req, res, new DomainError(parser[0], parser[1]));
    if (isTransientDatabaseError(err)) return sendError(req, res, databaseUnavailable(err));
    if (!(err instanceof DomainError))
      logger.error("unhandled error", { err, requestId: res.locals.requestId, path: req.originalUrl });
    sendError(req, res, err);
  };
}
