import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { DomainError, toIssues, type TDomainErrorCode, type TIssue } from "./domain-error.ts";
import { DOMAIN_TO_TRPC, TRPC_TO_REASON } from "./error-map.ts";

/** `data` of every error body, on both transports and whoever raised the error. */
export type TErrorData = {
  code: TRPC_ERROR_CODE_KEY;
  httpStatus: number;
  path: string | null;
  reason: TDomainErrorCode;
  issues: TIssue[];
  requestId: string | null;
};

export type TErrorEnvelope = { message: string; data: TErrorData };

const INTERNAL_MESSAGE = "Internal server error";

/**
 * The one place an error becomes what a client sees. A DomainError (raised directly or as a
 * tRPC error's cause) speaks for itself: its reason decides the tRPC code (error-map.ts) and so
 * the HTTP status. Anything else unexpected is INTERNAL: its message may carry SQL, file paths
 * or stack lines, so it goes to the log only, in every mode, and the body names the request id.
 */
export function errorEnvelope(
  error: unknown,
  scope: { path?: string | null; requestId?: string | null },
): TErrorEnvelope {
  const { code, reason, message, issues } = describe(error);
  const httpStatus = getHTTPStatusCodeFromError(new TRPCError({ code }));
  return {
    message,
    data: { code, httpStatus, path: scope.path ?? null, reason, issues, requestId: scope.requestId ?? null },
  };
}

type TDescription = { code: TRPC_ERROR_CODE_KEY; reason: TDomainErrorCode; message: string; issues: TIssue[] };

function describe(error: unknown): TDescription {
  const cause = error instanceof TRPCError ? error.cause : error;
  if (cause instanceof DomainError) {
    return { code: DOMAIN_TO_TRPC[cause.code], reason: cause.code, message: cause.message, issues: cause.issues };
  }
  if (!(error instanceof TRPCError)) return internal();
  // tRPC reports an unparsable body as BAD_REQUEST caused by the SyntaxError, and a zod failure
  // with the issues serialized as the message: give both the reason and message REST gives.
  if (error.code === "BAD_REQUEST" && cause instanceof SyntaxError) {
    return { code: error.code, reason: "MALFORMED_JSON", message: "Request body is not valid JSON", issues: [] };
  }
  if (error.code === "BAD_REQUEST" && isZodError(cause)) {
    return {
      code: error.code,
      reason: "VALIDATION_FAILED",
      message: "Input validation failed",
      issues: toIssues(cause.issues),
    };
  }
  if (error.code === "INTERNAL_SERVER_ERROR") return internal();
  // Refusals tRPC and the OpenAPI adapter raise themselves (unknown route, wrong method, …).
  return { code: error.code, reason: TRPC_TO_REASON[error.code] ?? "INTERNAL", message: error.message, issues: [] };
}

function internal(): TDescription {
  return { code: "INTERNAL_SERVER_ERROR", reason: "INTERNAL", message: INTERNAL_MESSAGE, issues: [] };
}

type TZodLikeError = Error & { issues: { path: PropertyKey[]; code: string; message: string }[] };

function isZodError(cause: unknown): cause is TZodLikeError {
  return cause instanceof Error && cause.name === "ZodError" && Array.isArray((cause as { issues?: unknown }).issues);
}
