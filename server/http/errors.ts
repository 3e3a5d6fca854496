import type { ErrorRequestHandler, Request, Response } from "express";
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError, type TDomainErrorCode } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import { DOMAIN_TO_TRPC, TRPC_TO_HTTP } from "../trpc/error-map.ts";

/**
 * Errors raised by Express itself (CSRF guard, body parser, session store) in the same shape
 * the procedures answer with: REST `{ message, code, data }`, tRPC `{ error: { message, code, data } }`.
 */
export function sendDomainError(req: Request, res: Response, err: DomainError): void {
  const code: TRPC_ERROR_CODE_KEY = DOMAIN_TO_TRPC[err.code];
  const httpStatus = TRPC_TO_HTTP[code] ?? 500;
  const data = { code, httpStatus, path: null, reason: err.code, issues: err.issues, requestId: res.locals.requestId ?? null };
  if (err.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(err.retryAfterSeconds));
  const isTrpc = req.originalUrl.startsWith("/api/trpc");
  res.status(httpStatus).json(isTrpc ? { error: { message: err.message, code: TRPC_ERROR_CODES_BY_KEY[code], data } } : { message: err.message, code, data });
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
    if (err instanceof DomainError) return sendDomainError(req, res, err);
    if (parser) return sendDomainError(req, res, new DomainError(parser[0], parser[1]));
    if (isTransientDatabaseError(err)) return sendDomainError(req, res, databaseUnavailable(err));
    logger.error("unhandled error", { err, requestId: res.locals.requestId, path: req.originalUrl });
    sendDomainError(req, res, new DomainError("INTERNAL", "Internal server error"));
  };
}
