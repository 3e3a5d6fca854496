/**
 * Errors the domain raises on purpose. Each code maps, in one table (server/errors/error-map.ts),
 * to a tRPC code and so to an HTTP status; `issues` name the offending input fields.
 */
export const DOMAIN_ERROR_CODES = [
  "UNAUTHENTICATED",
  "INVALID_CREDENTIALS",
  "WORKSPACE_FORBIDDEN",
  "ROLE_FORBIDDEN",
  "SITE_NOT_IN_WORKSPACE",
  "USER_ID_MISMATCH",
  "INVALID_API_KEY",
  "API_KEY_REVOKED",
  "SCOPE_FORBIDDEN",
  "INVALID_SIGNATURE",
  "CROSS_SITE_REQUEST",
  "VALIDATION_FAILED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "RATE_LIMITED",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "MALFORMED_JSON",
  "SERVICE_UNAVAILABLE",
  "DATABASE_UNAVAILABLE",
  "INTERNAL",
] as const;

export type TDomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

/** One offending input field: `path` like `["events", 7, "props"]`. */
export type TIssue = { path: (string | number)[]; code: string; message: string };

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: TDomainErrorCode,
    message: string,
    readonly issues: TIssue[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** An issue as a schema library reports it (zod's): its path may hold symbols, which no field name is. */
type TSchemaIssue = { readonly path: readonly PropertyKey[]; readonly code: string; readonly message: string };

/** Schema issues in DomainError's shape, each naming its field. */
export function toIssues(issues: readonly TSchemaIssue[]): TIssue[] {
  return issues.map((i) => ({
    path: i.path.filter((p): p is string | number => typeof p !== "symbol"),
    code: i.code,
    message: i.message,
  }));
}

/** Invalid input, answered the same way by every door: VALIDATION_FAILED with each field's path. */
export function validationFailed(issues: readonly TSchemaIssue[]): DomainError {
  return new DomainError("VALIDATION_FAILED", "Input validation failed", toIssues(issues));
}
