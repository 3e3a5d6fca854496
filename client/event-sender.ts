import type { TBatchPlan, TPlannedEvent } from "./event-batches.ts";

type TFetch = typeof globalThis.fetch;

export type TProgress = { sent: number; total: number; recorded: number; duplicates: number; batch: number; batches: number };

/** A server issue mapped back to the file: `line` is the NDJSON line of `events[i]`. */
export type TLineIssue = { line: number | null; path: (string | number)[]; message: string };

export type TSendFailure = { status: number | null; message: string; reason?: string; requestId?: string; issues: TLineIssue[]; batch: number };

export type TSendSummary = {
  ok: boolean;
  total: number;
  sent: number;
  recorded: number;
  duplicates: number;
  batches: number;
  retries: number;
  elapsedMs: number;
  error?: TSendFailure;
};

export type TSendEventsOptions = {
  baseUrl: string;
  workspaceId: string;
  siteId: string;
  /** `name=value` of the session cookie. */
  cookie: string;
  plan: TBatchPlan;
  fetch?: TFetch;
  /** Retries of one batch after 429/502/503/504 or a network error (default 5). */
  maxRetries?: number;
  /** Longest wait the sender accepts from `Retry-After`; a longer one stops the run (default 120 s). */
  maxWaitSeconds?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  onProgress?: (progress: TProgress) => void;
  onRetry?: (info: { batch: number; attempt: number; waitSeconds: number; reason: string }) => void;
};

const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * Sends the planned batches one after another to `POST /api/tracking/server-events`. Retrying is
 * safe because every event carries a `messageId` (the server reports a re-sent one as a
 * duplicate). Stops at the first batch the server refuses; never throws for HTTP outcomes.
 */
export async function sendEvents(opts: TSendEventsOptions): Promise<TSendSummary> {
  const started = Date.now();
  const fetch = opts.fetch ?? globalThis.fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? (() => new Date());
  const maxRetries = opts.maxRetries ?? 5;
  const maxWaitSeconds = opts.maxWaitSeconds ?? 120;
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/api/tracking/server-events?workspaceId=${encodeURIComponent(opts.workspaceId)}`;
  const summary: TSendSummary = { ok: true, total: opts.plan.total, sent: 0, recorded: 0, duplicates: 0, batches: opts.plan.batches.length, retries: 0, elapsedMs: 0 };
  const finish = (error?: TSendFailure) => ({ ...summary, ok: !error, elapsedMs: Date.now() - started, ...(error ? { error } : {}) });

  for (const [b, batch] of opts.plan.batches.entries()) {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", cookie: opts.cookie },
          // sentAt is taken per attempt: the server corrects event timestamps by its own clock.
          body: JSON.stringify({ siteId: opts.siteId, sentAt: now().toISOString(), events: batch.map((p) => p.event) }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
      } catch (error) {
        const message = `request failed: ${(error as Error).message}`;
        if (attempt >= maxRetries) return finish({ status: null, message, issues: [], batch: b });
        const wait = backoffSeconds(attempt);
        opts.onRetry?.({ batch: b, attempt: attempt + 1, waitSeconds: wait, reason: message });
        summary.retries++;
        await sleep(wait * 1000);
        continue;
      }
      const body = await readJson(response);
      if (response.ok) {
        const counts = countStatuses(body, batch.length);
        summary.sent += batch.length;
        summary.recorded += counts.recorded;
        summary.duplicates += counts.duplicates;
        opts.onProgress?.({ sent: summary.sent, total: summary.total, recorded: summary.recorded, duplicates: summary.duplicates, batch: b + 1, batches: summary.batches });
        break;
      }
      const failure = describeFailure(response.status, body, batch, b);
      if (!RETRYABLE.has(response.status)) return finish(failure);
      const asked = parseRetryAfter(response.headers.get("retry-after"), now());
      if (asked !== null && asked > maxWaitSeconds) {
        return finish({ ...failure, message: `${failure.message} (the server asks to wait ${asked} s, over the ${maxWaitSeconds} s allowed; re-run later, sent events will count as duplicates)` });
      }
      if (attempt >= maxRetries) return finish({ ...failure, message: `${failure.message} (gave up after ${maxRetries} retries)` });
      const wait = asked ?? backoffSeconds(attempt);
      opts.onRetry?.({ batch: b, attempt: attempt + 1, waitSeconds: wait, reason: `HTTP ${response.status}` });
      summary.retries++;
      await sleep(wait * 1000);
    }
  }
  return finish();
}

/** `Retry-After` as whole seconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

function backoffSeconds(attempt: number): number {
  return Math.min(30, 2 ** attempt);
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
    return { recorded: b.events.filter((e) => e.status === "recorded").length, duplicates: b.events.filter((e) => e.status === "duplicate").length };
  }
  const duplicates = typeof b.duplicates === "number" ? b.duplicates : 0;
  return { recorded: size - duplicates, duplicates };
}

/** The server's `{ message, code, data: { reason, issues, requestId } }`, issues mapped to file lines. */
function describeFailure(status: number, body: unknown, batch: TPlannedEvent[], index: number): TSendFailure {
  const b = (body && typeof body === "object" ? body : {}) as { message?: unknown; data?: { reason?: unknown; requestId?: unknown; issues?: unknown } };
  const message = typeof b.message === "string" ? b.message : typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${status}`;
  const rawIssues = Array.isArray(b.data?.issues) ? (b.data.issues as { path?: unknown; message?: unknown }[]) : [];
  const issues = rawIssues.map((issue) => {
    const path = Array.isArray(issue.path) ? (issue.path as (string | number)[]) : [];
    const eventIndex = path[0] === "events" && typeof path[1] === "number" ? path[1] : undefined;
    return { line: eventIndex === undefined ? null : (batch[eventIndex]?.line ?? null), path, message: String(issue.message ?? "") };
  });
  return {
    status,
    message: `HTTP ${status}: ${message}`,
    ...(typeof b.data?.reason === "string" ? { reason: b.data.reason } : {}),
    ...(typeof b.data?.requestId === "string" ? { requestId: b.data.requestId } : {}),
    issues,
    batch: index,
  };
}
