import { z } from "zod";
import { describeStageRules } from "./stages.ts";

/** Request limits from the specification. */
export const MAX_EVENTS_PER_REQUEST = 50;
export const MAX_PROPS_BYTES = 8192;
export const MAX_FUTURE_SKEW_MS = 60 * 60 * 1000;

/** Identifier values that mean "nobody" and would glue unrelated people into one profile. */
export const PLACEHOLDER_IDENTIFIERS: ReadonlySet<string> = new Set([
  "null", "undefined", "anonymous", "guest", "0", "none", "nil", "nan", "unknown", "n/a", "[object object]", "-1",
]);

const NUL = /\u0000/;
/** An unpaired UTF-16 surrogate: not Unicode. jsonb refuses it (a 500), text columns turn it into U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired UTF-16 surrogates";
const storable = (s: string) => !NUL.test(s) && !LONE_SURROGATE.test(s);

/** A string PostgreSQL stores exactly as sent: no NUL characters, valid Unicode. */
const ZText = (max: number) => z.string().max(max, `must be at most ${max} characters`).refine(storable, UNSTORABLE_MESSAGE);

const ZIdentifier = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty or blank")
    .max(max, `must be at most ${max} characters`)
    .refine(storable, UNSTORABLE_MESSAGE)
    .refine((v) => !PLACEHOLDER_IDENTIFIERS.has(v.toLowerCase()), { message: "is a placeholder, not an identifier", abort: true });

const ZTimestamp = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T12:00:00Z" });

/** Bytes of the props as stored: UTF-8 JSON. */
export function propsBytes(props: unknown): number {
  return Buffer.byteLength(JSON.stringify(props), "utf8");
}

function containsUnstorable(value: unknown): boolean {
  if (typeof value === "string") return !storable(value);
  if (Array.isArray(value)) return value.some(containsUnstorable);
  if (value && typeof value === "object") return Object.entries(value).some(([k, v]) => !storable(k) || containsUnstorable(v));
  return false;
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
    visitorId: ZIdentifier(128).optional().describe("The browser's visitor id (the `_fn_vid` cookie).").meta({ example: "v_8f14e45fceea167a" }),
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
      .describe("Must equal the session user's id when given (others are rejected with 403); adds a USER_ID identifier. Stored userId is always the session user's."),
    path: ZText(2048).optional().describe("Path (may carry utm_* and click ids in its query string).").meta({ example: "/api/signup" }),
    referrer: ZText(2048).optional().describe("Referrer URL of the visit, if known."),
    utm: ZUtm.optional(),
    props: z
      .record(z.string(), z.unknown())
      .refine((p) => !containsUnstorable(p), UNSTORABLE_MESSAGE)
      .refine((p) => propsBytes(p) <= MAX_PROPS_BYTES, { message: `must be at most ${MAX_PROPS_BYTES} bytes as UTF-8 JSON` })
      .optional()
      .describe(`Free-form JSON object, at most ${MAX_PROPS_BYTES} bytes as UTF-8 JSON.`)
      .meta({ example: { plan: "pro" } }),
    timestamp: ZTimestamp.optional().describe("When it happened (ISO 8601). At most 1 hour in the future. Defaults to the time received."),
    messageId: ZIdentifier(128)
      .optional()
      .describe("Idempotency key, unique per site: an event whose messageId was already recorded is reported as a duplicate and not recorded again."),
  })
  .superRefine((e, ctx) => {
    if (e.visitorId === undefined && e.email === undefined && e.userId === undefined) {
      ctx.addIssue({ code: "custom", message: "needs at least one identity: visitorId, email or userId", path: [] });
    }
  });

export type TServerEvent = z.infer<typeof ZServerEvent>;

/** Checks that need the whole request: future timestamps (relative to `sentAt`) and repeated messageIds. */
export function refineRequest(req: { sentAt?: string; events: TServerEvent[] }, ctx: z.RefinementCtx, now: number = Date.now()): void {
  const clock = req.sentAt ? Date.parse(req.sentAt) : now;
  const seen = new Map<string, number>();
  req.events.forEach((e, i) => {
    if (e.timestamp && Date.parse(e.timestamp) - clock > MAX_FUTURE_SKEW_MS) {
      ctx.addIssue({ code: "custom", path: ["events", i, "timestamp"], message: `is more than 1 hour in the future${req.sentAt ? " of sentAt" : ""}` });
    }
    if (e.messageId !== undefined) {
      const first = seen.get(e.messageId);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["events", i, "messageId"], message: `repeats the messageId of events[${first}]` });
      else seen.set(e.messageId, i);
    }
  });
}

export const ZRecordServerEventsBody = z
  .object({
    siteId: z.string().min(1).max(40).describe("A tracking site of the workspace; its funnel receives the events.").meta({ example: "site_456" }),
    sentAt: ZTimestamp.optional().describe("When the client sent the batch, by its own clock: corrects clock skew (occurredAt = receivedAt − (sentAt − timestamp))."),
    events: z
      .array(ZServerEvent)
      .min(1, "must contain at least 1 event")
      .max(MAX_EVENTS_PER_REQUEST, `must contain at most ${MAX_EVENTS_PER_REQUEST} events`)
      .describe(`1 to ${MAX_EVENTS_PER_REQUEST} events.`),
  })
  .superRefine((req, ctx) => refineRequest(req, ctx));

export type TRecordServerEventsBody = z.infer<typeof ZRecordServerEventsBody>;
