import type { TErrorExample, TProcedureExamples } from "../trpc/meta.types.ts";
import { EXAMPLE_IDS } from "../trpc/shared/examples.types.ts";

// What every operation shares. An operation's own request and error examples are declared in
// its procedure's meta (`examples` in server/trpc/<area>/<name>.types.ts).

/** Descriptions, bounds and examples of query and path parameters the generator leaves bare. */
export const PARAMETER_NOTES: Record<string, { description: string; example?: unknown }> = {
  cursor: {
    description:
      "`nextCursor` of the previous page, passed back unchanged; leave it out for the first page. " +
      "A cursor this API did not return is a 400 naming `cursor`.",
  },
  limit: { description: "Page size: a whole number from 1 to 200 (default 50).", example: 20 },
  visitorId: {
    description: "A visitor id (the browser's `_fn_vid` cookie). Give exactly one of `visitorId` or `email`.",
    example: "v_8f14e45fceea167a5a36dedd4bea2543",
  },
  // No example: "Try it out" would send it next to visitorId's, and exactly one of the two is allowed.
  email: { description: "An email, matched case-insensitively. Give exactly one of `visitorId` or `email`." },
  siteId: { description: "A tracking site of the workspace.", example: EXAMPLE_IDS.siteId },
  profileId: {
    description: "A profile id (`profileId` of a recorded event or of a lookup).",
    example: EXAMPLE_IDS.profileId,
  },
};

/** By status, for every operation that declares no example of its own for it. */
const STATUS_EXAMPLES: Record<string, TErrorExample> = {
  "400": {
    reason: "MALFORMED_JSON",
    message: "Request body is not valid JSON",
    issues: [],
  },
  "401": { reason: "UNAUTHENTICATED", message: "Log in first: this endpoint needs a session cookie", issues: [] },
  "403": {
    reason: "WORKSPACE_FORBIDDEN",
    message: "You are not a member of this workspace",
    issues: [{ path: ["workspaceId"], code: "forbidden", message: "not a workspace you belong to" }],
  },
  "404": {
    reason: "NOT_FOUND",
    message: "No such profile in this workspace",
    issues: [{ path: ["profileId"], code: "not_found", message: "no such profile in this workspace" }],
  },
  "413": { reason: "PAYLOAD_TOO_LARGE", message: "Request body too large", issues: [] },
  "415": {
    reason: "UNSUPPORTED_MEDIA_TYPE",
    message: 'Charset "latin1" is not supported: send UTF-8 JSON',
    issues: [{ path: ["content-type"], code: "unsupported", message: 'charset "latin1" is not supported; send utf-8' }],
  },
  "429": { reason: "RATE_LIMITED", message: "Rate limit of 600 requests per 3600 s exceeded", issues: [] },
  "500": { reason: "INTERNAL", message: "Internal server error", issues: [] },
  "503": {
    reason: "SERVICE_UNAVAILABLE",
    message: "The session store is temporarily unavailable; retry shortly",
    issues: [],
  },
};

/** The example error of one operation and status, or undefined for a status without one. */
export function errorExample(own: TProcedureExamples, status: string): TErrorExample | undefined {
  return (own.errors as Record<string, TErrorExample | undefined> | undefined)?.[status] ?? STATUS_EXAMPLES[status];
}

/** A request id as the server writes them (also sent as X-Request-Id). */
export const EXAMPLE_REQUEST_ID = "req_01jd7x4k2m9q8r7s6t5v4w3x2y";
