import type { TLineIssue, TLineReject, TPlannedEvent } from "./event-batches.ts";
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isTransientStatus,
  parseRetryAfter,
  type TRetryPolicy,
} from "./retry.ts";
import { unreachable } from "./session-file.ts";

type TFetch = typeof globalThis.fetch;

/** Counts after each batch; `done` counts events sent or refused, out of `total`. */
export type TSendCounts = {
  total: number;
  done: number;
  sent: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  retries: number;
};

/** A server issue mapped back to the file: `line` is the NDJSON line of `events[i]`, when it names one. */
export type TServerIssue = { line: number | null; path: (string | number)[]; message: string };

/** A batch the server refused for good: what it said, and the file lines the batch covered. */
export type TSendFailure = {
  status: number | null;
  message: string;
  reason?: string;
  requestId?: string;
  issues: TServerIssue[];
  batch: number;
  lines: { first: number; last: number };
};

export type TSendSummary = TSendCounts & { ok: boolean; batches: number; elapsedMs: number; error?: TSendFailure };

export type TRetryInfo = { batch: number; attempt: number; waitMs: number; reason: string };

export type TSendEventsOptions = {
  baseUrl: string;
  workspaceId: string;
  siteId: string;
  /** `name=value` of the session cookie. */
  cookie: string;
  batches: TPlannedEvent[][];
  fetch?: TFetch;
  retry?: Partial<TRetryPolicy>;
  /** Per-request timeout (default 30 s); a timed-out request is retried like a network error. */
  timeoutMs?: number;
  /**
   * On a refusal whose issues all name events, drop those events (reported through `onRejects`)
   * and send the rest of the batch, instead of stopping the run.
   */
  skipInvalid?: boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  random?: () => number;
  onBatch?: (counts: TSendCounts) => void;
  onRetry?: (info: TRetryInfo) => void;
  onRejects?: (rejects: TLineReject[]) => void;
  /** Stops the run (Ctrl-C): no new request, a running one or a wait is cut short. */
  signal?: AbortSignal;
};

type TAttempt =
  | { kind: "done"; body: unknown }
  | { kind: "retry"; reason: string; waitMs: number }
  | { kind: "fail"; failure: TSendFailure };

/**
 * Sends the planned batches in order to `POST /api/tracking/server-events`. Transient failures
 * (network errors, timeouts, 429, 5xx) are retried with bounded, jittered exponential backoff
 * (or as long as `Retry-After` says), then the run resumes with the same batch; this is safe
 * because every event carries a `messageId`, so a re-sent event is reported as a duplicate. A
 * batch refused for good stops the run with the lines it covered. Never throws for HTTP outcomes.
 */
export async function sendEvents(opts: TSendEventsOptions): Promise<TSendSummary> {
  const started = Date.now();
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  const sleep = opts.sleep ?? ((ms: number) => sleepUnlessAborted(ms, opts.signal));
  const total = opts.batches.reduce((n, b) => n + b.length, 0);
  const counts: TSendCounts = { total, done: 0, sent: 0, recorded: 0, duplicates: 0, rejected: 0, retries: 0 };
  const finish = (error?: TSendFailure): TSendSummary => ({
    ...counts,
    ok: !error,
    batches: opts.batches.length,
    elapsedMs: Date.now() - started,
    ...(error ? { error } : {}),
  });

  for (const [b, batch] of opts.batches.entries()) {
    let pending = batch;
    for (let attempt = 0; pending.length > 0;) {
      if (opts.signal?.aborted) return finish(interrupted(pending, b));
      const outcome = await attemptBatch(opts, policy, pending, b, attempt);
      if (outcome.kind === "retry") {
        opts.onRetry?.({ batch: b, attempt: attempt + 1, waitMs: outcome.waitMs, reason: outcome.reason });
        counts.retries++;
        attempt++;
        await sleep(outcome.waitMs);
        continue;
      }
      if (outcome.kind === "fail") {
        const dropped = opts.skipInvalid ? refusedEvents(outcome.failure, pending) : null;
        if (!dropped) return finish(outcome.failure);
        opts.onRejects?.(dropped.rejects);
        counts.rejected += dropped.rejects.length;
        counts.done += dropped.rejects.length;
        pending = dropped.rest;
        continue;
      }
      const statuses = countStatuses(outcome.body, pending.length);
      counts.sent += pending.length;
      counts.done += pending.length;
      counts.recorded += statuses.recorded;
      counts.duplicates += statuses.duplicates;
      break;
    }
    opts.onBatch?.({ ...counts });
  }
  return finish();
}

async function attemptBatch(
  opts: TSendEventsOptions,
  policy: TRetryPolicy,
  batch: TPlannedEvent[],
  b: number,
  attempt: number,
): Promise<TAttempt> {
  const origin = opts.baseUrl.replace(/\/+$/, "");
  const url = `${origin}/api/tracking/server-events?workspaceId=${encodeURIComponent(opts.workspaceId)}`;
  const now = opts.now ?? (() => new Date());
  const lines = { first: batch[0]!.line, last: batch[batch.length - 1]!.line };
  const giveUp = (failure: Omit<TSendFailure, "batch" | "lines">): TAttempt => ({
    kind: "fail",
    failure: { ...failure, batch: b, lines },
  });
  let response: Response;
  try {
    response = await (opts.fetch ?? globalThis.fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", cookie: opts.cookie },
      // sentAt is taken per attempt: the server corrects event timestamps by its own clock.
      body: JSON.stringify({ siteId: opts.siteId, sentAt: now().toISOString(), events: batch.map((p) => p.event) }),
      signal: withTimeout(opts.signal, opts.timeoutMs ?? 30_000),
    });
  } catch (error) {
    if (opts.signal?.aborted) return { kind: "fail", failure: interrupted(batch, b) };
    const message = `request failed: ${unreachable(origin, error)}`;
    if (attempt >= policy.maxRetries)
      return giveUp({ status: null, message: `${message} (gave up after ${attempt} retries)`, issues: [] });
    return { kind: "retry", reason: message, waitMs: backoffDelayMs(attempt, policy, opts.random) };
  }
  const body = await readJson(response);
  if (response.ok) return { kind: "done", body };
  const failure = describeFailure(response.status, body, batch);
  if (!isTransientStatus(response.status)) return giveUp(failure);
  const asked = parseRetryAfter(response.headers.get("retry-after"), now());
  if (asked !== null && asked * 1000 > policy.maxWaitMs) {
    const why =
      `the server asks to wait ${asked} s, over the ${policy.maxWaitMs / 1000} s allowed; ` +
      "re-run later, sent events will count as duplicates";
    return giveUp({ ...failure, message: `${failure.message} (${why})` });
  }
  if (attempt >= policy.maxRetries)
    return giveUp({ ...failure, message: `${failure.message} (gave up after ${attempt} retries)` });
  return {
    kind: "retry",
    reason: `HTTP ${response.status}`,
    waitMs: asked !== null ? asked * 1000 : backoffDelayMs(attempt, policy, opts.random),
  };
}

/**
 * With --skip-invalid, a refusal whose issues all name events (a 400 the local check missed, a
 * foreign userId) costs only those events: they become rejects and the rest of the batch is sent
 * again. A refusal of the request itself (no access, a site outside the workspace) would refuse
 * every batch alike, so it still stops the run.
 */
function refusedEvents(
  failure: TSendFailure,
  batch: TPlannedEvent[],
): { rejects: TLineReject[]; rest: TPlannedEvent[] } | null {
  if (failure.status === null || failure.status >= 500 || failure.status === 429 || failure.issues.length === 0)
    return null;
  const byIndex = new Map<number, TLineIssue[]>();
  for (const issue of failure.issues) {
    const [root, index, ...path] = issue.path;
    if (root !== "events" || typeof index !== "number" || !batch[index]) return null;
    byIndex.set(index, [...(byIndex.get(index) ?? []), { path, code: "server", message: issue.message }]);
  }
  const rejects = [...byIndex].map(([index, issues]) => ({
    line: batch[index]!.line,
    reason: "SERVER_REFUSED" as const,
    issues,
    original: batch[index]!.original,
  }));
  return { rejects, rest: batch.filter((_, i) => !byIndex.has(i)) };
}

function interrupted(batch: TPlannedEvent[], b: number): TSendFailure {
  const lines = { first: batch[0]!.line, last: batch[batch.length - 1]!.line };
  return { status: null, message: "interrupted", reason: "INTERRUPTED", issues: [], batch: b, lines };
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  return signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms);
}

function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

function countStatuses(body: unknown, size: number): { recorded: number; duplicates: number } {
  const b = (body ?? {}) as { events?: { status?: string }[]; duplicates?: number };
  if (Array.isArray(b.events)) {
    const count = (status: string) => b.events!.filter((e) => e.status === status).length;
    return { recorded: count("recorded"), duplicates: count("duplicate") };
  }
  const duplicates = typeof b.duplicates === "number" ? b.duplicates : 0;
  return { recorded: size - duplicates, duplicates };
}

type TErrorBody = { message?: unknown; data?: { reason?: unknown; requestId?: unknown; issues?: unknown } };

/** The server's `{ message, code, data: { reason, issues, requestId } }`, issues mapped to file lines. */
function describeFailure(status: number, body: unknown, batch: TPlannedEvent[]): Omit<TSendFailure, "batch" | "lines"> {
  const b = (body && typeof body === "object" ? body : {}) as TErrorBody;
  const text = typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${status}`;
  const message = typeof b.message === "string" ? b.message : text;
  const rawIssues = Array.isArray(b.data?.issues) ? (b.data.issues as { path?: unknown; message?: unknown }[]) : [];
  const issues = rawIssues.map((issue) => {
    const path = Array.isArray(issue.path) ? (issue.path as (string | number)[]) : [];
    const eventIndex = path[0] === "events" && typeof path[1] === "number" ? path[1] : undefined;
    const line = eventIndex === undefined ? null : (batch[eventIndex]?.line ?? null);
    return { line, path, message: typeof issue.message === "string" ? issue.message : "" };
  });
  return {
    status,
    message: `HTTP ${status}: ${message}`,
    ...(typeof b.data?.reason === "string" ? { reason: b.data.reason } : {}),
    ...(typeof b.data?.requestId === "string" ? { requestId: b.data.requestId } : {}),
    issues,
  };
}
