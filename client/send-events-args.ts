import { parseArgs } from "node:util";

/** A bad command line: exit 2 with this one-line message. */
export class UsageError extends Error {}

export const DEFAULT_BASE_URL = "http://localhost:3000";
/** The environment variable a password may come from, instead of the command line. */
export const PASSWORD_ENV = "FSE_PASSWORD";
/** The environment variable the server's address may come from, instead of `--base-url`. */
export const BASE_URL_ENV = "FSE_BASE_URL";

export const SEND_EVENTS_USAGE = `Usage:
  npm run send-events -- login  --email <e> [--password -] [--base-url <url>] [--cookie-file <f>]
  npm run send-events -- [send] --file <events.ndjson|-> --workspace <ws_…> --site <site_…> [options]
  npm run send-events -- logout [--cookie-file <f>]

Sends one event object per line (blank lines skipped) to POST /api/tracking/server-events in
batches of 50. Every line is first checked with the server's own schema; all bad lines are
listed (line, field, reason) and, by default, nothing is sent. Lines without a messageId get a
stable one, so a re-run (after a crash, or of an edited file) reports duplicates instead of
recording twice.

Send options:
  --file <f|->          NDJSON events ("-" reads standard input)
  --workspace <id>      workspace id (ws_…)
  --site <id>           site id (site_…)
  --base-url <url>      server (default: $${BASE_URL_ENV}, else the logged-in session's, else ${DEFAULT_BASE_URL})
  --dry-run             validate only: no login, nothing sent
  --skip-invalid        send the valid lines; bad ones (and events the server refuses) are skipped
  --rejects <file>      write each bad line as NDJSON {line, reason, issues, original}
  --json                print the final summary as JSON on stdout
  --max-retries <n>     retries of one batch after a network error, 429 or 5xx (default 5)
  --max-delay <s>       cap of one exponential backoff wait, in seconds (default 30)
  --max-wait <s>        longest Retry-After accepted, in seconds; longer stops the run (default 120)
Authentication (send), first that applies:
  --cookie "fse.sid=…"  an existing session cookie (kept)
  --email <e>           log in for this run and log out at its end; the password from
                        --password - (standard input), $${PASSWORD_ENV}, or --password <p> (visible in ps)
  the session stored by "login" in the cookie file
Session options (login, logout, send):
  --cookie-file <f>     where "login" keeps the session, mode 0600
                        (default $XDG_CONFIG_HOME/funnel-server-events/session.json, or ~/.config/…)
  -h, --help            this text

Progress goes to stderr (one live line on a terminal, a line every 5 s otherwise), the summary to
stdout. Exit codes: 0 done, 1 refused by the server, unreachable or interrupted, 2 bad arguments
or bad lines (without --skip-invalid).`;

export type TSendArgs = {
  command: "send";
  file: string;
  workspace?: string;
  site?: string;
  baseUrl?: string;
  dryRun: boolean;
  skipInvalid: boolean;
  rejects?: string;
  json: boolean;
  cookie?: string;
  email?: string;
  password?: string;
  cookieFile?: string;
  maxRetries: number;
  maxDelaySeconds: number;
  maxWaitSeconds: number;
};
export type TLoginArgs = { command: "login"; email: string; password?: string; baseUrl?: string; cookieFile?: string };
export type TLogoutArgs = { command: "logout"; cookieFile?: string };
export type TArgs = { command: "help" } | TSendArgs | TLoginArgs | TLogoutArgs;

const OPTIONS = {
  file: { type: "string" },
  "base-url": { type: "string" },
  workspace: { type: "string" },
  site: { type: "string" },
  cookie: { type: "string" },
  "cookie-file": { type: "string" },
  email: { type: "string" },
  password: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  "skip-invalid": { type: "boolean", default: false },
  rejects: { type: "string" },
  json: { type: "boolean", default: false },
  "max-retries": { type: "string", default: "5" },
  "max-delay": { type: "string", default: "30" },
  "max-wait": { type: "string", default: "120" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type TValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Parses the command line; throws `UsageError` (or parseArgs' TypeError) with a one-line message. */
export function parseSendEventsArgs(argv: string[]): TArgs {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    strict: true,
    allowPositionals: true,
    tokens: true,
  });
  const given = new Set(tokens.flatMap((t) => (t.kind === "option" ? [t.name] : [])));
  if (values.help) return { command: "help" };
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const command = positionals[0] ?? "send";
  const baseUrl = values["base-url"] === undefined ? undefined : checkBaseUrl(values["base-url"]);
  const cookieFile = nonBlank(values["cookie-file"], "--cookie-file");
  if (command === "login") {
    allowOnly(given, ["base-url", "cookie-file", "email", "password"], "login");
    const email = nonBlank(values.email, "--email");
    if (!email) throw new UsageError("login needs --email");
    return { command, email, password: values.password, baseUrl, cookieFile };
  }
  if (command === "logout") {
    allowOnly(given, ["cookie-file"], "logout");
    return { command, cookieFile };
  }
  if (command !== "send") throw new UsageError(`unknown command "${command}" (send, login or logout)`);
  return parseSend(values, baseUrl, cookieFile);
}

function parseSend(values: TValues, baseUrl: string | undefined, cookieFile: string | undefined): TSendArgs {
  const file = nonBlank(values.file, "--file");
  if (!file) throw new UsageError("--file is required");
  const dryRun = values["dry-run"];
  const workspace = nonBlank(values.workspace, "--workspace");
  const site = nonBlank(values.site, "--site");
  if (!dryRun && !workspace) throw new UsageError("--workspace is required (unless --dry-run)");
  if (!dryRun && !site) throw new UsageError("--site is required (unless --dry-run)");
  if (values.cookie !== undefined && (values.email !== undefined || values.password !== undefined)) {
    throw new UsageError("give either --cookie or --email/--password, not both");
  }
  if (values.password !== undefined && values.email === undefined) throw new UsageError("--password needs --email");
  if (values.cookie !== undefined && !/^[^=;\s]+=[^;]*/.test(values.cookie))
    throw new UsageError('--cookie must look like "name=value"');
  if (file === "-" && values.password === "-")
    throw new UsageError("--file - and --password - cannot both read standard input");
  return {
    command: "send",
    file,
    workspace,
    site,
    baseUrl,
    dryRun,
    skipInvalid: values["skip-invalid"],
    rejects: nonBlank(values.rejects, "--rejects"),
    json: values.json,
    cookie: values.cookie,
    email: nonBlank(values.email, "--email"),
    password: values.password,
    cookieFile,
    maxRetries: wholeNumber("--max-retries", values["max-retries"], 0, 100),
    maxDelaySeconds: wholeNumber("--max-delay", values["max-delay"], 1, 3_600),
    maxWaitSeconds: wholeNumber("--max-wait", values["max-wait"], 0, 86_400),
  };
}

/** Flags of `send` given to login/logout are mistakes worth saying, not silently ignored. */
function allowOnly(given: Set<string>, allowed: string[], command: string): void {
  const stray = [...given].find((name) => !allowed.includes(name));
  if (stray) throw new UsageError(`--${stray} does not apply to ${command}`);
}

function nonBlank(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") throw new UsageError(`${flag} must not be empty`);
  return value.trim();
}

function checkBaseUrl(value: string, from = "--base-url"): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw new UsageError(`${from} must be an http:// or https:// URL`);
  return value.replace(/\/+$/, "");
}

/** The server's address the user chose: `--base-url`, else $FSE_BASE_URL; undefined when neither is given. */
export function chosenBaseUrl(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  const fromEnv = env[BASE_URL_ENV];
  return flag ?? (fromEnv ? checkBaseUrl(fromEnv, BASE_URL_ENV) : undefined);
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}
