import { createHash } from "node:crypto";

/** The server's limit of events per request. */
export const MAX_BATCH_SIZE = 50;

export type TEvent = Record<string, unknown>;

/** One event to send, with the file line it came from (to map the server's issues back). */
export type TPlannedEvent = { line: number; event: TEvent & { messageId: string } };

export type TBatchPlan = { total: number; batches: TPlannedEvent[][] };

export type TLineProblem = { line: number; message: string };

/** The file cannot be sent as it is; nothing has been sent. */
export class EventsFileError extends Error {
  constructor(readonly problems: TLineProblem[]) {
    const shown = problems.slice(0, 10).map((p) => `  line ${p.line}: ${p.message}`);
    if (problems.length > 10) shown.push(`  … and ${problems.length - 10} more`);
    super(`${problems.length} bad line(s) in the events file; nothing was sent:\n${shown.join("\n")}`);
    this.name = "EventsFileError";
  }
}

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
  return createHash("sha256").update(`${canonicalJson(event)}\n${occurrence}`).digest("hex");
}

/**
 * Parses NDJSON lines (blank lines skipped) into batches of at most `size` events, each with a
 * `messageId` (kept when the line has one, derived otherwise). Throws `EventsFileError` listing
 * every unparsable line, non-object line, bad `messageId`, or `messageId` used twice.
 */
export function planBatches(lines: readonly string[], size: number = MAX_BATCH_SIZE): TBatchPlan {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) throw new RangeError(`batch size must be 1..${MAX_BATCH_SIZE}`);
  const problems: TLineProblem[] = [];
  const planned: TPlannedEvent[] = [];
  const occurrences = new Map<string, number>();
  const seenIds = new Map<string, number>();
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === "") return;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (error) {
      problems.push({ line, message: `not valid JSON (${(error as Error).message})` });
      return;
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      problems.push({ line, message: "expected a JSON object (one event per line)" });
      return;
    }
    const { messageId: given, ...content } = event as TEvent;
    let messageId: string;
    if (given === undefined || given === null) {
      const key = canonicalJson(content);
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      messageId = deriveMessageId(content, occurrence);
    } else if (typeof given === "string" && given.trim() !== "") {
      messageId = given;
    } else {
      problems.push({ line, message: "messageId must be a non-empty string when present" });
      return;
    }
    const earlier = seenIds.get(messageId);
    if (earlier !== undefined) {
      problems.push({ line, message: `messageId "${messageId}" is already used on line ${earlier}` });
      return;
    }
    seenIds.set(messageId, line);
    planned.push({ line, event: { ...content, messageId } });
  });
  if (problems.length > 0) throw new EventsFileError(problems);
  const batches: TPlannedEvent[][] = [];
  for (let i = 0; i < planned.length; i += size) batches.push(planned.slice(i, i + size));
  return { total: planned.length, batches };
}

/** Splits file text into lines (LF or CRLF), dropping a UTF-8 byte-order mark. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r?\n/);
}
