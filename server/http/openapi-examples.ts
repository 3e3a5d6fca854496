import type { TErrorData } from "../errors/error-envelope.ts";

/**
 * The ids the examples use: "Try it out" sends them as they are, so a caller replaces exactly
 * these (the start-up banner prints the real ones of the demo workspace).
 */
export const EXAMPLE_IDS = {
  workspaceId: "ws_123",
  siteId: "site_456",
  profileId: "prf_789",
  keyId: "key_123",
} as const;

/**
 * One request body per operation (by operationId) that the server accepts as it is once the ids
 * are replaced. No `sentAt` or `timestamp`: a fixed date would drift out of the accepted window;
 * the `messageId` makes a second "Try it out" come back as a duplicate, not a second event.
 */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  "auth-login": { email: "demo@example.com", password: "the password printed at first start" },
  "auth-logout": {},
  "apiKeys-create": { name: "billing backend", scopes: ["write:custom_events", "read:profiles"] },
  "apiKeys-revoke": { keyId: EXAMPLE_IDS.keyId },
  // Stripe shows the endpoint's real secret on its dashboard; this one has the right shape.
  "sites-setStripeSecret": { siteId: EXAMPLE_IDS.siteId, secret: "whsec_replace_with_your_endpoint_secret" },
  // Rotating with `required: false` first gets the secret to your backend before browsers must send HMACs.
  "sites-setIdentityVerification": { siteId: EXAMPLE_IDS.siteId, required: true },
  "tracking-recordServerEvents": {
    siteId: EXAMPLE_IDS.siteId,
    events: [
      {
        type: "signup",
        visitorId: "v_8f14e45fceea167a",
        email: "user@example.com",
        path: "/signup?utm_source=newsletter&utm_medium=email",
        props: { plan: "pro" },
        messageId: "signup-user@example.com",
      },
    ],
  },
};

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
    example: "v_8f14e45fceea167a",
  },
  // No example: "Try it out" would send it next to visitorId's, and exactly one of the two is allowed.
  email: { description: "An email, matched case-insensitively. Give exactly one of `visitorId` or `email`." },
  siteId: { description: "A tracking site of the workspace.", example: EXAMPLE_IDS.siteId },
  profileId: {
    description: "A profile id (`profileId` of a recorded event or of a lookup).",
    example: EXAMPLE_IDS.profileId,
  },
};

type TErrorExample = Pick<TErrorData, "reason" | "issues"> & { message: string };

const INVALID_LIMIT: TErrorExample = {
  reason: "VALIDATION_FAILED",
  message: "Input validation failed",
  issues: [{ path: ["limit"], code: "too_big", message: "must be at most 200" }],
};

/** The 400 each operation most likely answers, naming one of its own fields. */
const VALIDATION_EXAMPLES: Record<string, TErrorExample> = {
  "auth-login": {
    reason: "VALIDATION_FAILED",
    message: "Input validation failed",
    issues: [{ path: ["password"], code: "too_small", message: "Too small: expected string to have >=1 characters" }],
  },
  "tracking-recordServerEvents": {
    reason: "VALIDATION_FAILED",
    message: "Input validation failed",
    issues: [
      {
        path: ["events", 0, "timestamp"],
        code: "invalid_format",
        message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T12:00:00Z",
      },
    ],
  },
  "tracking-listEvents": INVALID_LIMIT,
  "profiles-get": INVALID_LIMIT,
  "profiles-lookup": {
    reason: "VALIDATION_FAILED",
    message: "Input validation failed",
    issues: [{ path: ["visitorId"], code: "custom", message: "give exactly one of visitorId or email" }],
  },
};

const NOT_A_MEMBER: TErrorExample = {
  reason: "WORKSPACE_FORBIDDEN",
  message: "You are not a member of this workspace",
  issues: [{ path: ["workspaceId"], code: "forbidden", message: "not a workspace you belong to" }],
};

/** The 403 each operation most likely answers. */
const FORBIDDEN_EXAMPLES: Record<string, TErrorExample> = {
  "tracking-recordServerEvents": {
    reason: "SITE_NOT_IN_WORKSPACE",
    message: "siteId is not a tracking site of this workspace",
    issues: [{ path: ["siteId"], code: "forbidden", message: "not a tracking site of this workspace" }],
  },
  "auth-login": { reason: "CROSS_SITE_REQUEST", message: "Cross-site request refused", issues: [] },
  "auth-logout": { reason: "CROSS_SITE_REQUEST", message: "Cross-site request refused", issues: [] },
};

/** By status, for every operation that has no example of its own above. */
const STATUS_EXAMPLES: Record<string, TErrorExample> = {
  "400": {
    reason: "MALFORMED_JSON",
    message: "Request body is not valid JSON",
    issues: [],
  },
  "401": { reason: "UNAUTHENTICATED", message: "Log in first: this endpoint needs a session cookie", issues: [] },
  "403": NOT_A_MEMBER,
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

const LOGIN_401: TErrorExample = {
  reason: "INVALID_CREDENTIALS",
  message: "Email or password is incorrect",
  issues: [],
};

/** The example error of one operation and status, or undefined for a status without one. */
export function errorExample(operationId: string, status: string): TErrorExample | undefined {
  if (status === "400" && VALIDATION_EXAMPLES[operationId]) return VALIDATION_EXAMPLES[operationId];
  if (status === "403" && FORBIDDEN_EXAMPLES[operationId]) return FORBIDDEN_EXAMPLES[operationId];
  if (status === "401" && operationId === "auth-login") return LOGIN_401;
  return STATUS_EXAMPLES[status];
}

/** A request id as the server writes them (also sent as X-Request-Id). */
export const EXAMPLE_REQUEST_ID = "req_01jd7x4k2m9q8r7s6t5v4w3x2y";
