import type { ErrorRequestHandler, Request, Response } from "express";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError, type TDomainErrorCode } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import { errorEnvelope } from "../errors/error-envelope.ts";

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

/** body-parser marks its errors with a `type` such as "entity.too.large". */
function bodyParserTypeOf(err: unknown): string | undefined {
  const type: unknown = typeof err === "object" && err !== null ? (err as { type?: unknown }).type : undefined;
  return typeof type === "string" ? type : undefined;
}

const BODY_PARSER_ERRORS: Record<string, [TDomainErrorCode, string]> = {
  "entity.too.large": ["PAYLOAD_TOO_LARGE", "Request body too large"],
  "entity.parse.failed": ["MALFORMED_JSON", "Request body is not valid JSON"],
  "encoding.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "Unsupported content encoding"],
  "charset.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "Unsupported charset; send UTF-8 JSON"],
};

/** The last handler: JSON errors everywhere, never Express's HTML page or a stack trace. */
export function jsonErrorHandler(logger: TLogger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return void res.end();
    const type = bodyParserTypeOf(err);
    const parser = type === undefined ? undefined : BODY_PARSER_ERRORS[type];
    if (parser) return sendError(req, res, new DomainError(parser[0], parser[1]));
    if (isTransientDatabaseError(err)) return sendError(req, res, databaseUnavailable(err));
    if (!(err instanceof DomainError))
      logger.error("unhandled error", { err, requestId: requestIdOf(res), path: req.originalUrl });
    sendError(req, res, err);
  };
}
