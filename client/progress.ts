import type { TSendCounts, TSendSummary } from "./event-sender.ts";

type TStream = { write(chunk: string): unknown; isTTY?: boolean };

const number = (n: number) => n.toLocaleString("en-US");

function tally(recorded: number, duplicates: number, rejected: number, retried: number): string {
  return [
    `recorded ${number(recorded)}`,
    `duplicates ${number(duplicates)}`,
    `rejected ${number(rejected)}`,
    `retried ${number(retried)}`,
  ].join(", ");
}

/** `9 s`, `2 min 5 s`, `1 h 3 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** One progress line: done/total, share, rate, ETA, and the counts so far. */
export function formatProgress(counts: TSendCounts, elapsedMs: number): string {
  const share = counts.total ? Math.floor((counts.done / counts.total) * 100) : 100;
  const rate = elapsedMs > 0 ? counts.done / (elapsedMs / 1000) : 0;
  const left = counts.total - counts.done;
  const eta = left === 0 ? "done" : rate > 0 ? `ETA ${formatDuration((left / rate) * 1000)}` : "ETA …";
  return [
    `${number(counts.done)}/${number(counts.total)} events (${share}%)`,
    `${number(Math.round(rate))} ev/s`,
    eta,
    tally(counts.recorded, counts.duplicates, counts.rejected, counts.retries),
  ].join(" · ");
}

/** The final tally in one line; `rejectedLocally` are the lines refused before sending. */
export function formatSummary(summary: TSendSummary, rejectedLocally: number): string {
  const rejected = summary.rejected + rejectedLocally;
  const outcome = summary.ok ? "done" : "stopped";
  const tallied = tally(summary.recorded, summary.duplicates, rejected, summary.retries);
  return `${outcome}: ${tallied}, in ${(summary.elapsedMs / 1000).toFixed(1)} s`;
}

/**
 * Progress on a stream: on a terminal one line redrawn in place (`\r`, at most every
 * `redrawMs`); elsewhere (a log, a pipe) a plain line at most every `intervalMs`, and the last one.
 */
export function createProgressReporter(
  stream: TStream,
  opts: { intervalMs?: number; redrawMs?: number; now?: () => number } = {},
) {
  const now = opts.now ?? Date.now;
  const started = now();
  const tty = stream.isTTY === true;
  const every = tty ? (opts.redrawMs ?? 100) : (opts.intervalMs ?? 5_000);
  let last = -Infinity;
  let drawn = "";
  return {
    update(counts: TSendCounts): void {
      const at = now();
      const final = counts.done === counts.total;
      if (!final && at - last < every) return;
      last = at;
      drawn = formatProgress(counts, at - started);
      stream.write(tty ? `\r${drawn}\x1b[K` : `${drawn}\n`);
    },
    /** A message of its own line (a retry, a refusal) without garbling the live line. */
    note(text: string): void {
      stream.write(tty && drawn ? `\r\x1b[K${text}\n${drawn}` : `${text}\n`);
    },
    /** Ends the live line so what follows starts on a fresh one. */
    end(): void {
      if (tty && drawn) stream.write("\n");
      drawn = "";
    },
  };
}
