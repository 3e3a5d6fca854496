import { createHash } from "node:crypto";
import { MAX_EVENTS_PER_REQUEST, ZRecordServerEventsBody } from "../server/tracking/server-event.schema.ts";

/** The server's limit of events per request. */
export const MAX_BATCH_SIZE = MAX_EVENTS_PER_REQUEST;

export type TEvent = Record<string, unknown>;

/** One event to send, with the file line it came from (to map the server's issues back). */
export type TPlannedEvent = { line: number; original: string; event: TEvent & { messageId: string } };

/** One field-level problem, in the server's issue shape (`path` relative to the event). */
export type TLineIssue = { path: (string | number)[]; code: string; message: string };

/** Why a line is not sent; written as one NDJSON line of the rejects file. */
export type TLineReject = { line: number; reason: TRejectReason; issues: TLineIssue[]; original: string };

export type TRejectReason =
  "MALFORMED_JSON" | "NOT_AN_OBJECT" | "VALIDATION_FAILED" | "DUPLICATE_MESSAGE_ID" | "SERVER_REFUSED";

export type TBatchPlan = { total: number; batches: TPlannedEvent[][]; rejects: TLineReject[] };

/** JSON with object keys sorted at every depth, so equal events serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A stable `messageId` for an event that has none: SHA-256 (hex) of the event's canonical JSON
 * and its occurrence among identical events of the file (0 for the first). It depends neither on
 * line numbers nor on the rest of the file, so re-sending an edited or extended file makes the
 * server report the already recorded events as duplicates instead of recording them again.
 */
export function deriveMessageId(event: TEvent, occurrence: number): string {
  return createHash("sha256")
    .update(`${canonicalJson(event)}\n${occurrence}`)
    .digest("hex");
}

/**
 * The issues the server's own request schema finds in one event, sent alone to `siteId`. Using
 * the server's schema (not a copy of its rules) keeps local validation exactly as strict as the
 * server, including request-level checks such as timestamps too far in the future.
 */
export function validateEvent(event: TEvent, siteId: string): TLineIssue[] {
  const result = ZRecordServerEventsBody.safeParse({ siteId, events: [event] });
  if (result.success) return [];
  // Issues outside the event (the siteId) are the same for every line: the server reports them.
  return result.error.issues
    .map((issue) => ({ ...issue, path: issue.path.filter((p): p is string | number => typeof p !== "symbol") }))
    .filter((issue) => issue.path[0] === "events" && issue.path[1] === 0)
    .map((issue) => ({ path: issue.path.slice(2), code: issue.code, message: issue.message }));
}

type TParsedLine = { event: TEvent } | { reject: Omit<TLineReject, "line" | "original"> };

function parseLine(text: string): TParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = `not valid JSON (${(error as Error).message})`;
    return { reject: { reason: "MALFORMED_JSON", issues: [{ path: [], code: "invalid_json", message }] } };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const message = "expected a JSON object (one event per line)";
    return { reject: { reason: "NOT_AN_OBJECT", issues: [{ path: [], code: "invalid_type", message }] } };
  }
  return { event: value as TEvent };
}

/**
 * Parses and validates NDJSON lines (blank lines skipped) and plans the valid events in batches
 * of at most `size`, each with a `messageId` (kept when the line has one, derived otherwise).
 * Every bad line is collected in `rejects` (never thrown), so one pass finds them all.
 */
export function planBatches(lines: readonly string[], opts: { siteId: string; size?: number }): TBatchPlan {
  const size = opts.size ?? MAX_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    throw new RangeError(`batch size must be 1..${MAX_BATCH_SIZE}`);
  }
  const rejects: TLineReject[] = [];
  const planned: TPlannedEvent[] = [];
  const occurrences = new Map<string, number>();
  const seenIds = new Map<string, number>();
  lines.forEach((original, index) => {
    const line = index + 1;
    if (original.trim() === "") return;
    const parsed = parseLine(original);
    if ("reject" in parsed) return void rejects.push({ line, original, ...parsed.reject });
    const { messageId: given, ...content } = parsed.event;
    let messageId = given;
    if (given === undefined) {
      const key = canonicalJson(content);
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      messageId = deriveMessageId(content, occurrence);
    }
    const event = { ...content, messageId };
    const issues = validateEvent(event, opts.siteId);
    if (issues.length > 0) return void rejects.push({ line, reason: "VALIDATION_FAILED", issues, original });
    const earlier = seenIds.get(messageId as string);
    if (earlier !== undefined) {
      const message = `repeats the messageId of line ${earlier}`;
      const issue = { path: ["messageId"], code: "custom", message };
      return void rejects.push({ line, reason: "DUPLICATE_MESSAGE_ID", issues: [issue], original });
    }
    seenIds.set(messageId as string, line);
    planned.push({ line, original, event: event as TPlannedEvent["event"] });
  });
  const batches: TPlannedEvent[][] = [];
  for (let i = 0; i < planned.length; i += size) batches.push(planned.slice(i, i + size));
  return { total: planned.length, batches, rejects };
}

/** Splits file text into lines (LF or CRLF), dropping a UTF-8 byte-order mark. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r?\n/);
}

/** One reject as `line 7: props: must be at most 8192 bytes as UTF-8 JSON; type: …`. */
export function formatReject(reject: TLineReject): string {
  const issues = reject.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  return `line ${reject.line}: ${issues.join("; ")}`;
}
