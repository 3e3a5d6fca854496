import { z } from "zod";
import { EARLIEST_EVENT_TIME, isStorableText, UNSTORABLE_TEXT_MESSAGE, ZStorableId } from "../db/storable.ts";
import { describeStageRules } from "./stages.ts";

/** Request limits of the product (50 events a request, 8 KB of props an event; see the README). */
export const MAX_EVENTS_PER_REQUEST = 50;
export const MAX_PROPS_BYTES = 8192;
export const MAX_FUTURE_SKEW_MS = 60 * 60 * 1000;
/** How far `sentAt` may be from the server's clock: further off, the client's clock is broken, not skewed. */
export const MAX_SENT_AT_SKEW_MS = 24 * 60 * 60 * 1000;
/** Levels of objects and arrays in `props`, the props object itself being level 1. */
export const MAX_PROPS_DEPTH = 32;

/** Identifier values that mean "nobody" and would glue unrelated people into one profile. */
export const PLACEHOLDER_IDENTIFIERS: ReadonlySet<string> = new Set([
  "null",
  "undefined",
  "anonymous",
  "guest",
  "0",
  "none",
  "nil",
  "nan",
  "unknown",
  "n/a",
  "[object object]",
  "-1",
]);

/** A string PostgreSQL stores exactly as sent: no NUL characters, valid Unicode. */
export const ZText = (max: number) =>
  z.string().max(max, `must be at most ${max} characters`).refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/** An identity value: trimmed, 1..max characters, storable, not a placeholder such as "null". */
export const ZIdentifier = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty or blank")
    .max(max, `must be at most ${max} characters`)
    .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
    .refine((v) => !PLACEHOLDER_IDENTIFIERS.has(v.toLowerCase()), {
      message: "is a placeholder, not an identifier",
      abort: true,
    });

const ZTimestamp = z.iso.datetime({
  offset: true,
  message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T12:00:00Z",
});

/** Bytes of the props as stored: UTF-8 JSON. */
export function propsBytes(props: unknown): number {
  return Buffer.byteLength(JSON.stringify(props), "utf8");
}

type TPropsProblem = { path: (string | number)[]; message: string };

/**
 * The first reason `props` would not be stored exactly as sent, or undefined. Walked with an
 * explicit stack, and the depth is checked before descending, so no input can exhaust the call
 * stack (which made deep props fail or pass depending on how warm the process was).
 */
export function propsProblem(props: Record<string, unknown>): TPropsProblem | undefined {
  const stack: { value: unknown; path: (string | number)[]; depth: number }[] = [{ value: props, path: [], depth: 1 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === "string") {
      if (!isStorableText(value)) return { path, message: UNSTORABLE_TEXT_MESSAGE };
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return { path, message: "must be a finite number (JSON cannot carry it)" };
    } else if (Array.isArray(value) || isPlainObject(value)) {
      if (depth > MAX_PROPS_DEPTH) return { path, message: `nests deeper than ${MAX_PROPS_DEPTH} levels` };
      const entries: [string | number, unknown][] = Array.isArray(value)
        ? value.map((v, i) => [i, v])
        : Object.entries(value);
      for (const [key, child] of entries) {
        if (typeof key === "string" && !isStorableText(key))
          return { path: [...path, key], message: `key ${UNSTORABLE_TEXT_MESSAGE}` };
        stack.push({ value: child, path: [...path, key], depth: depth + 1 });
      }
    } else if (value !== null && typeof value !== "boolean") {
      return { path, message: "must be a JSON value" };
    }
  }
  return undefined;
}

/** `props.plan.tiers[2]`, with keys that are not plain names quoted as JSON strings. */
export function describePath(root: string, path: readonly (string | number)[]): string {
  return path.reduce<string>((at, k) => {
    if (typeof k === "number") return `${at}[${k}]`;
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? `${at}.${k}` : `${at}[${JSON.stringify(k)}]`;
  }, root);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export const ZUtm = z
  .strictObject({
    source: ZText(256).optional().describe("utm_source"),
    medium: ZText(256).optional().describe("utm_medium"),
    campaign: ZText(256).optional().describe("utm_campaign"),
    term: ZText(256).optional().describe("utm_term"),
    content: ZText(256).optional().describe("utm_content"),
  })
  .describe("Campaign parameters; with `referrer` and the `path` query string they decide the channel.");

export const ZServerEvent = z
  .strictObject({
    type: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . : -")
      .describe(`Event type. ${describeStageRules()}`)
      .meta({ example: "signup" }),
    visitorId: ZIdentifier(128)
      .optional()
      .describe("The browser's visitor id (the `_fn_vid` cookie).")
      .meta({ example: "v_8f14e45fceea167a5a36dedd4bea2543" }),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254, "must be at most 254 characters")
      .pipe(z.email({ message: "must be a valid email address" }))
      .optional()
      .describe("The person's email; trimmed and lower-cased. Feeds cross-device profile merges.")
      .meta({ example: "user@example.com" }),
    userId: ZIdentifier(40)
      .optional()
      .describe(
        "Adds a USER_ID identifier. With a session: must equal the session user's id (others are rejected with " +
          "403), and the stored userId is always the session user's. With an API key (MCP): your customer's own " +
          "user id, stored as given.",
      ),
    path: ZText(2048)
      .optional()
      .describe("Path (may carry utm_* and click ids in its query string).")
      .meta({ example: "/api/signup" }),
    referrer: ZText(2048).optional().describe("Referrer URL of the visit, if known."),
    utm: ZUtm.optional(),
    props: z
      .record(z.string(), z.unknown())
      .superRefine((p, ctx) => {
        const problem = propsProblem(p);
        if (problem)
          ctx.addIssue({ code: "custom", message: `${problem.message} (at ${describePath("props", problem.path)})` });
        else if (propsBytes(p) > MAX_PROPS_BYTES)
          ctx.addIssue({ code: "custom", message: `must be at most ${MAX_PROPS_BYTES} bytes as UTF-8 JSON` });
      })
      .optional()
      .describe(
        `Free-form JSON object, at most ${MAX_PROPS_BYTES} bytes as UTF-8 JSON and ${MAX_PROPS_DEPTH} levels deep; ` +
          "no `__proto__` keys, no number a double does not keep as written " +
          "(`9007199254740993`, `-0`, `1e400`: send those as strings). Stored exactly as sent or refused.",
      )
      .meta({ example: { plan: "pro" } }),
    timestamp: ZTimestamp.optional().describe(
      "When it happened (ISO 8601). Corrected by `sentAt` when given, " +
        "it must fall between 2000-01-01 and 1 hour after receipt. " +
        "Defaults to the time received.",
    ),
    messageId: ZIdentifier(128)
      .optional()
      .describe(
        "Idempotency key, unique per site: an event whose messageId was already recorded " +
          "is reported as a duplicate and not recorded again.",
      ),
  })
  .superRefine((e, ctx) => refineIdentity(e, ctx));

/** An event must say whose it is (the browser door's event schema checks it too). */
export function refineIdentity(e: { visitorId?: string; email?: string; userId?: string }, ctx: z.RefinementCtx) {
  if (e.visitorId === undefined && e.email === undefined && e.userId === undefined) {
    ctx.addIssue({ code: "custom", message: "needs at least one identity: visitorId, email or userId", path: [] });
  }
}

export type TServerEvent = z.infer<typeof ZServerEvent>;

/**
 * Checks that need the whole request: the corrected occurredAt of each event must lie in
 * [2000-01-01, receipt + 1 h], `sentAt` within a day of the server's clock, messageIds unique.
 * Everything a write stores is then a date PostgreSQL holds, and no client clock rewrites history.
 */
export function refineRequest(
  req: { sentAt?: string; events: TServerEvent[] },
  ctx: z.RefinementCtx,
  now: number = Date.now(),
): void {
  // A date that is not ISO 8601 already has its issue; a window around it means nothing.
  const dateOf = (v: string | undefined) =>
    v !== undefined && ZTimestamp.safeParse(v).success ? Date.parse(v) : undefined;
  const sentAt = dateOf(req.sentAt);
  const sentAtUsable =
    req.sentAt === undefined || (sentAt !== undefined && Math.abs(sentAt - now) <= MAX_SENT_AT_SKEW_MS);
  if (sentAt !== undefined && !sentAtUsable) {
    ctx.addIssue({ code: "custom", path: ["sentAt"], message: "must be within 24 hours of the server's clock" });
  }
  const seen = new Map<string, number>();
  req.events.forEach((e, i) => {
    const timestamp = dateOf(e.timestamp);
    const problem = timestamp !== undefined && sentAtUsable ? occurredAtProblem(timestamp, sentAt, now) : undefined;
    if (problem) ctx.addIssue({ code: "custom", path: ["events", i, "timestamp"], message: problem });
    if (e.messageId !== undefined) {
      const first = seen.get(e.messageId);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["events", i, "messageId"],
          message: `repeats the messageId of events[${first}]`,
        });
      else seen.set(e.messageId, i);
    }
  });
}

/** Why the occurredAt a timestamp stands for (corrected by sentAt) is refused, or undefined. */
function occurredAtProblem(timestamp: number, sentAt: number | undefined, now: number): string | undefined {
  const occurredAt = sentAt === undefined ? timestamp : now - (sentAt - timestamp);
  const of = sentAt === undefined ? "" : " (corrected by sentAt)";
  if (!(occurredAt >= EARLIEST_EVENT_TIME)) return `is before 2000-01-01T00:00:00Z${of}`;
  if (occurredAt - now > MAX_FUTURE_SKEW_MS)
    return `is more than 1 hour in the future${sentAt === undefined ? "" : " of sentAt"}`;
  return undefined;
}

/** The body's fields, for the transports to combine with their scope (`workspaceId`). */
export const RECORD_SERVER_EVENTS_FIELDS = {
  siteId: ZStorableId(40)
    .describe("A tracking site of the workspace; its funnel receives the events.")
    .meta({ example: "site_456" }),
  sentAt: ZTimestamp.optional().describe(
    "When the client sent the batch, by its own clock: " +
      "corrects clock skew (occurredAt = receivedAt − (sentAt − timestamp)). " +
      "Must be within 24 hours of the server's clock.",
  ),
  events: z
    .array(ZServerEvent)
    .min(1, "must contain at least 1 event")
    .max(MAX_EVENTS_PER_REQUEST, `must contain at most ${MAX_EVENTS_PER_REQUEST} events`)
    .describe(`1 to ${MAX_EVENTS_PER_REQUEST} events.`),
};

/** Unknown keys are refused at every level of the body, as in each event. */
export const ZRecordServerEventsBody = z
  .strictObject(RECORD_SERVER_EVENTS_FIELDS)
  .superRefine((req, ctx) => refineRequest(req, ctx));

export type TRecordServerEventsBody = z.infer<typeof ZRecordServerEventsBody>;
