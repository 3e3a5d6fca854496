import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { EventsFileError, planBatches, splitLines } from "./event-batches.ts";
import { sendEvents, type TSendFailure } from "./event-sender.ts";

type TFetch = typeof globalThis.fetch;
type TOut = { write(chunk: string): unknown };

export type TSendEventsIo = { stdout: TOut; stderr: TOut; fetch?: TFetch; sleep?: (ms: number) => Promise<void>; readFile?: (path: string) => Promise<string> };

export const SEND_EVENTS_USAGE = `Usage: npm run send-events -- --file <events.ndjson|-> --workspace <ws_…> --site <site_…>
         (--cookie "fse.sid=…" | --email <e> --password <p>) [--base-url http://localhost:3000]
         [--max-retries 5] [--max-wait 120]

Sends one event object per line (blank lines skipped) to POST /api/tracking/server-events in
batches of 50. Lines without a messageId get a stable one, so a re-run reports duplicates instead
of recording twice. Progress on stderr, a JSON summary on stdout.
Exit codes: 0 sent, 1 refused by the server or unreachable, 2 bad arguments or a bad file.`;

class UsageError extends Error {}

/** The send-events command as a function: parses `argv`, reads the file, logs in if asked, sends. Returns the exit code. */
export async function runSendEvents(argv: string[], io: TSendEventsIo): Promise<number> {
  const fetch = io.fetch ?? globalThis.fetch;
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    io.stderr.write(`send-events: ${(error as Error).message.replace(/\s*\n\s*/g, " ")} (see --help)\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${SEND_EVENTS_USAGE}\n`);
    return 0;
  }

  let plan: ReturnType<typeof planBatches>;
  try {
    const text = await (io.readFile ?? ((p: string) => readFile(p === "-" ? "/dev/stdin" : p, "utf8")))(args.file);
    plan = planBatches(splitLines(text));
  } catch (error) {
    const message = error instanceof EventsFileError ? error.message : `cannot read ${args.file}: ${(error as Error).message}`;
    io.stderr.write(`send-events: ${message}\n`);
    return 2;
  }

  let cookie = args.cookie;
  if (!cookie) {
    const login = await logIn(fetch, args.baseUrl, args.email!, args.password!);
    if ("error" in login) {
      io.stderr.write(`send-events: login failed: ${login.error}\n`);
      return 1;
    }
    cookie = login.cookie;
  }

  io.stderr.write(`sending ${plan.total} event(s) in ${plan.batches.length} batch(es) to ${args.baseUrl}\n`);
  const summary = await sendEvents({
    baseUrl: args.baseUrl,
    workspaceId: args.workspace,
    siteId: args.site,
    cookie,
    plan,
    fetch,
    sleep: io.sleep,
    maxRetries: args.maxRetries,
    maxWaitSeconds: args.maxWait,
    onProgress: (p) => io.stderr.write(`sent ${p.sent}/${p.total} (recorded ${p.recorded}, duplicates ${p.duplicates})\n`),
    onRetry: (r) => io.stderr.write(`batch ${r.batch + 1}: ${r.reason}; retry ${r.attempt} in ${r.waitSeconds} s\n`),
  });
  if (summary.error) io.stderr.write(`send-events: ${formatFailure(summary.error)}\n`);
  io.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.ok ? 0 : 1;
}

function parseCliArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      file: { type: "string" },
      "base-url": { type: "string", default: "http://localhost:3000" },
      workspace: { type: "string" },
      site: { type: "string" },
      cookie: { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      "max-retries": { type: "string", default: "5" },
      "max-wait": { type: "string", default: "120" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true as const };
  for (const name of ["file", "workspace", "site"] as const) {
    if (!values[name]?.trim()) throw new UsageError(`--${name} is required`);
  }
  const hasLogin = values.email !== undefined || values.password !== undefined;
  if (values.cookie !== undefined && hasLogin) throw new UsageError("give either --cookie or --email/--password, not both");
  if (values.cookie === undefined && !(values.email && values.password)) throw new UsageError("give --cookie, or both --email and --password");
  if (values.cookie !== undefined && !/^[^=;\s]+=[^;]*/.test(values.cookie)) throw new UsageError('--cookie must look like "name=value"');
  const baseUrl = values["base-url"];
  if (!/^https?:\/\/[^/]/.test(baseUrl)) throw new UsageError("--base-url must be an http:// or https:// URL");
  return {
    help: false as const,
    file: values.file!,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    workspace: values.workspace!.trim(),
    site: values.site!.trim(),
    cookie: values.cookie,
    email: values.email,
    password: values.password,
    maxRetries: wholeNumber("--max-retries", values["max-retries"], 0, 100),
    maxWait: wholeNumber("--max-wait", values["max-wait"], 0, 86_400),
  };
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

/** `POST /api/auth/login`; returns the cookies the server set, as a `Cookie` header value. */
async function logIn(fetch: TFetch, baseUrl: string, email: string, password: string): Promise<{ cookie: string } | { error: string }> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    return { error: `cannot reach ${baseUrl}: ${(error as Error).message}` };
  }
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  if (!response.ok) return { error: `HTTP ${response.status}: ${body?.message ?? response.statusText}` };
  const cookie = response.headers.getSetCookie().map((line) => line.split(";", 1)[0]).join("; ");
  return cookie ? { cookie } : { error: "the server set no session cookie" };
}

function formatFailure(failure: TSendFailure): string {
  const lines = [`batch ${failure.batch + 1} refused: ${failure.message}${failure.requestId ? ` [request ${failure.requestId}]` : ""}`];
  for (const issue of failure.issues.slice(0, 20)) {
    const where = issue.line === null ? issue.path.join(".") || "request" : `line ${issue.line} (${issue.path.join(".")})`;
    lines.push(`  ${where}: ${issue.message}`);
  }
  if (failure.issues.length > 20) lines.push(`  … and ${failure.issues.length - 20} more`);
  return lines.join("\n");
}
