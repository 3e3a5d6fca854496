import { appendFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { formatReject, planBatches, splitLines, type TBatchPlan, type TLineReject } from "./event-batches.ts";
import { sendEvents, type TSendFailure, type TSendSummary } from "./event-sender.ts";
import { createProgressReporter, formatSummary } from "./progress.ts";
import {
  chosenBaseUrl,
  DEFAULT_BASE_URL,
  parseSendEventsArgs,
  PASSWORD_ENV,
  SEND_EVENTS_USAGE,
  UsageError,
  type TLoginArgs,
  type TLogoutArgs,
  type TSendArgs,
} from "./send-events-args.ts";
import { defaultCookieFile, deleteSession, loadSession, logIn, logOut, saveSession } from "./session-file.ts";

export { SEND_EVENTS_USAGE } from "./send-events-args.ts";

type TFetch = typeof globalThis.fetch;
type TOut = { write(chunk: string): unknown; isTTY?: boolean };

export type TSendEventsIo = {
  stdout: TOut;
  /** Progress and problems; a live progress line when it is a terminal. */
  stderr: TOut;
  fetch?: TFetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  readFile?: (path: string) => Promise<string>;
  /** Standard input, for `--password -` and `--file -`. */
  readStdin?: () => Promise<string>;
  /** Defaults to process.env (for FSE_PASSWORD, FSE_BASE_URL and XDG_CONFIG_HOME). */
  env?: Record<string, string | undefined>;
  /** Home folder for the default cookie file. */
  home?: string;
  /** Plain progress lines (not a terminal) at most this often (default 5 s). */
  progressIntervalMs?: number;
  /** Aborted on Ctrl-C: the run stops, still logging out a session of its own. */
  signal?: AbortSignal;
};

/** How a send authenticates: a cookie to use as is, or a login of its own to undo at the end. */
type TAuth =
  | { baseUrl: string; cookie: string; source: "cookie" | "file"; file?: string }
  | { baseUrl: string; email: string; password: string; source: "login" };

/** The send-events command as a function: `send` (default), `login` or `logout`. Returns the exit code. */
export async function runSendEvents(argv: string[], io: TSendEventsIo): Promise<number> {
  try {
    const args = parseSendEventsArgs(argv);
    if (args.command === "help") return report(io.stdout, `${SEND_EVENTS_USAGE}\n`, 0);
    if (args.command === "login") return await runLogin(args, io);
    if (args.command === "logout") return await runLogout(args, io);
    return await runSend(args, io);
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    // parseArgs appends advice about "--" positionals that does not apply here.
    const message = (error as Error).message.replace(/\s*\n\s*/g, " ").replace(/\. To specify a positional.*$/, "");
    io.stderr.write(`send-events: ${message}${usage ? " (see --help)" : ""}\n`);
    return usage ? 2 : 1;
  }
}

/** Writes one message and returns the exit code to go with it. */
function report(out: TOut, text: string, code: number): number {
  out.write(text);
  return code;
}

const cookieFileOf = (given: string | undefined, io: TSendEventsIo) =>
  given ?? defaultCookieFile(envOf(io), io.home ?? homedir());

async function readProcessStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** `--password -` reads standard input, else the flag's value, else $FSE_PASSWORD. */
async function resolvePassword(given: string | undefined, io: TSendEventsIo): Promise<string> {
  if (given === "-") return (await (io.readStdin ?? readProcessStdin)()).replace(/\r?\n$/, "");
  const password = given ?? envOf(io)[PASSWORD_ENV];
  if (!password) throw new UsageError(`no password: give --password - (standard input) or set ${PASSWORD_ENV}`);
  return password;
}

async function runLogin(args: TLoginArgs, io: TSendEventsIo): Promise<number> {
  const fetch = io.fetch ?? globalThis.fetch;
  const file = cookieFileOf(args.cookieFile, io);
  const password = await resolvePassword(args.password, io);
  const baseUrl = chosenBaseUrl(args.baseUrl, envOf(io)) ?? DEFAULT_BASE_URL;
  const login = await logIn(fetch, baseUrl, args.email, password);
  if ("error" in login) return report(io.stderr, `send-events: login failed: ${login.error}\n`, 1);
  // A session replaced here would otherwise live on, unused, until it expires.
  const previous = await loadSession(file).catch(() => null);
  if (previous) await logOut(fetch, previous.baseUrl, previous.cookie);
  await saveSession(file, { baseUrl, cookie: login.cookie, email: args.email, savedAt: new Date().toISOString() });
  io.stdout.write(
    `logged in to ${baseUrl} as ${args.email}; session kept in ${file} (mode 0600) until "send-events logout"\n`,
  );
  return 0;
}

async function runLogout(args: TLogoutArgs, io: TSendEventsIo): Promise<number> {
  const file = cookieFileOf(args.cookieFile, io);
  const session = await loadSession(file);
  if (!session) return report(io.stdout, `not logged in (no ${file})\n`, 0);
  const result = await logOut(io.fetch ?? globalThis.fetch, session.baseUrl, session.cookie);
  if ("error" in result) return report(io.stderr, `send-events: logout failed, ${file} kept: ${result.error}\n`, 1);
  await deleteSession(file);
  io.stdout.write(`logged out of ${session.baseUrl}; deleted ${file}\n`);
  return 0;
}

/** Decides how to authenticate before anything is read or sent, so a missing login fails fast. */
async function resolveAuth(args: TSendArgs, io: TSendEventsIo): Promise<TAuth> {
  const chosen = chosenBaseUrl(args.baseUrl, envOf(io));
  if (args.cookie) return { baseUrl: chosen ?? DEFAULT_BASE_URL, cookie: args.cookie, source: "cookie" };
  if (args.email) {
    const password = await resolvePassword(args.password, io);
    return { baseUrl: chosen ?? DEFAULT_BASE_URL, email: args.email, password, source: "login" };
  }
  const file = cookieFileOf(args.cookieFile, io);
  const session = await loadSession(file);
  if (!session) {
    throw new UsageError(`not logged in: run "send-events login --email …" first (no ${file}), or give --email`);
  }
  if (chosen && chosen !== session.baseUrl) {
    throw new UsageError(`the session in ${file} is for ${session.baseUrl}, not ${chosen}: log in there first`);
  }
  return { baseUrl: session.baseUrl, cookie: session.cookie, source: "file", file };
}

async function readEvents(args: TSendArgs, io: TSendEventsIo): Promise<TBatchPlan> {
  const read = io.readFile ?? ((p: string) => (p === "-" ? (io.readStdin ?? readProcessStdin)() : readFile(p, "utf8")));
  let text: string;
  try {
    text = await read(args.file);
  } catch (error) {
    throw new UsageError(`cannot read ${args.file}: ${(error as Error).message}`);
  }
  // Only the events are checked locally, so a dry run without --site validates as well.
  return planBatches(splitLines(text), { siteId: args.site ?? "site_dry_run" });
}

/** Appends the rejects to the rejects file (when asked) and returns them as indented lines for stderr. */
function recordRejects(rejects: TLineReject[], args: TSendArgs): string {
  if (args.rejects) appendFileSync(args.rejects, rejects.map((r) => `${JSON.stringify(r)}\n`).join(""));
  return rejects.map((reject) => `  ${formatReject(reject)}`).join("\n");
}

async function runSend(args: TSendArgs, io: TSendEventsIo): Promise<number> {
  const auth = args.dryRun ? null : await resolveAuth(args, io);
  const plan = await readEvents(args, io);
  if (args.rejects) writeFileSync(args.rejects, "");
  const lines = plan.total + plan.rejects.length;
  if (plan.rejects.length > 0) {
    const listed = recordRejects(plan.rejects, args);
    io.stderr.write(`send-events: ${plan.rejects.length} of ${lines} line(s) are invalid:\n${listed}\n`);
  }
  const refuse = plan.rejects.length > 0 && !args.skipInvalid;
  if (args.dryRun || refuse || plan.total === 0) {
    const verdict = refuse
      ? `nothing was sent (--skip-invalid sends the ${plan.total} valid line(s))`
      : "nothing was sent";
    io.stderr.write(`send-events: ${args.dryRun ? "dry run: " : ""}${verdict}\n`);
    const counts = { total: plan.total, done: 0, sent: 0, recorded: 0, duplicates: 0, rejected: 0, retries: 0 };
    printSummary({ ...counts, ok: !refuse, batches: 0, elapsedMs: 0 }, plan, args, io);
    return refuse ? 2 : 0;
  }
  return send(args, auth!, plan, io);
}

async function send(args: TSendArgs, auth: TAuth, plan: TBatchPlan, io: TSendEventsIo): Promise<number> {
  const fetch = io.fetch ?? globalThis.fetch;
  let cookie: string;
  if (auth.source === "login") {
    const login = await logIn(fetch, auth.baseUrl, auth.email, auth.password);
    if ("error" in login) return report(io.stderr, `send-events: login failed: ${login.error}\n`, 1);
    cookie = login.cookie;
  } else {
    cookie = auth.cookie;
  }
  const progress = createProgressReporter(io.stderr, { intervalMs: io.progressIntervalMs });
  io.stderr.write(`sending ${plan.total} event(s) in ${plan.batches.length} batch(es) to ${auth.baseUrl}\n`);
  let summary: TSendSummary;
  try {
    summary = await sendEvents({
      baseUrl: auth.baseUrl,
      workspaceId: args.workspace!,
      siteId: args.site!,
      cookie,
      batches: plan.batches,
      fetch,
      sleep: io.sleep,
      random: io.random,
      skipInvalid: args.skipInvalid,
      signal: io.signal,
      retry: {
        maxRetries: args.maxRetries,
        maxDelayMs: args.maxDelaySeconds * 1000,
        maxWaitMs: args.maxWaitSeconds * 1000,
      },
      onBatch: (counts) => progress.update(counts),
      onRetry: (r) =>
        progress.note(`batch ${r.batch + 1}: ${r.reason}; retry ${r.attempt} in ${(r.waitMs / 1000).toFixed(1)} s`),
      onRejects: (rejects) => {
        const listed = recordRejects(rejects, args);
        progress.note(`send-events: the server refused ${rejects.length} event(s); skipped:\n${listed}`);
      },
    });
  } finally {
    progress.end();
    // A login of this run's own is undone, so repeated runs leave no sessions behind.
    if (auth.source === "login") await logOut(fetch, auth.baseUrl, cookie);
  }
  if (summary.error) io.stderr.write(`send-events: ${formatFailure(summary.error, auth)}\n`);
  printSummary(summary, plan, args, io);
  return summary.ok ? 0 : 1;
}

function printSummary(summary: TSendSummary, plan: TBatchPlan, args: TSendArgs, io: TSendEventsIo): void {
  if (!args.json) {
    const line = args.dryRun
      ? `dry run: ${plan.total} valid line(s), ${plan.rejects.length} invalid`
      : formatSummary(summary, plan.rejects.length);
    io.stdout.write(`${line}\n`);
    return;
  }
  const { ok, sent, recorded, duplicates, retries, batches, error } = summary;
  const body = {
    ok,
    dryRun: args.dryRun,
    lines: plan.total + plan.rejects.length,
    valid: plan.total,
    rejected: plan.rejects.length + summary.rejected,
    sent,
    recorded,
    duplicates,
    retried: retries,
    batches,
    seconds: Math.round(summary.elapsedMs / 100) / 10,
    ...(args.rejects ? { rejectsFile: args.rejects } : {}),
    ...(error ? { error } : {}),
  };
  io.stdout.write(`${JSON.stringify(body)}\n`);
}

function formatFailure(failure: TSendFailure, auth: TAuth): string {
  const { first, last } = failure.lines;
  const range = first === last ? `line ${first}` : `lines ${first}-${last}`;
  const resume = "re-run to resume (events already recorded count as duplicates)";
  if (failure.reason === "INTERRUPTED") return `interrupted at batch ${failure.batch + 1} (${range}); ${resume}`;
  const request = failure.requestId ? ` [request ${failure.requestId}]` : "";
  const verb = failure.status === null ? "failed" : "refused";
  const out = [
    `batch ${failure.batch + 1} (${range}) ${verb}: ${failure.message}${request}`,
    `  the run stopped at line ${first}; fix and ${resume}`,
  ];
  for (const issue of failure.issues.slice(0, 20)) {
    const where =
      issue.line === null ? issue.path.join(".") || "request" : `line ${issue.line} (${issue.path.join(".")})`;
    out.push(`  ${where}: ${issue.message}`);
  }
  if (failure.issues.length > 20) out.push(`  … and ${failure.issues.length - 20} more`);
  if (failure.status === 401 && auth.source === "file") {
    out.push(`  the session in ${auth.file} has ended: run "send-events login" again`);
  }
  return out.join("\n");
}

function envOf(io: TSendEventsIo): Record<string, string | undefined> {
  return io.env ?? process.env;
}
