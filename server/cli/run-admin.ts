import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type TConfig } from "../config.ts";
import { withLocalSecrets } from "../infra/local-secrets.ts";
import { EmbeddedDatabaseLockedError, openDatabase, type TDatabase } from "../db/database.ts";
import { adminSocketPath, forwardToAdminSocket } from "./admin-socket-client.ts";
import { CommandFailedError, describeInputError, UsageError, type TCommand } from "./command.ts";
import { keyCreate, keyList, keyRevoke } from "./commands/key.ts";
import { migrate } from "./commands/migrate.ts";
import { userCreate, userPassword } from "./commands/user.ts";
import { siteBrowserStageCeiling, siteCreate, siteIdentity, siteList, siteStripeSecret } from "./commands/site.ts";
import { sessionRevoke } from "./commands/session.ts";
import { memberAdd, memberRemove, workspaceCreate } from "./commands/workspace.ts";

type TOut = { write(chunk: string): unknown };

export type TAdminIo = {
  stdout: TOut;
  stderr: TOut;
  /** An open database to use (tests); otherwise one is opened from the configuration and closed after. */
  db?: TDatabase;
  /** Environment for loadConfig when `db` is not given (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** The secrets key to encrypt with (the server's, when it runs the command); else from the configuration. */
  secrets?: TConfig["secrets"];
  /** Reads standard input, for `--password -` and `--secret -` (defaults to the process's stdin). */
  readStdin?: () => Promise<string>;
};

/** `--password -` (or `--secret -`) reads the value from standard input, so it never shows in `ps` or shell history. */
const STDIN_VALUE = "-";
const STDIN_OPTIONS = ["--password", "--secret"];

async function readProcessStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

const COMMANDS: TCommand[] = [
  userCreate,
  userPassword,
  sessionRevoke,
  workspaceCreate,
  memberAdd,
  memberRemove,
  siteCreate,
  siteList,
  siteStripeSecret,
  siteBrowserStageCeiling,
  siteIdentity,
  keyCreate,
  keyList,
  keyRevoke,
  migrate,
];

export const ADMIN_USAGE = [
  "Usage: npm run admin -- <command> [--json]",
  "",
  "Commands:",
  ...COMMANDS.map((c) => `  ${c.usage}\n      ${c.summary}`),
  "  help",
  "",
  "Prints the created id (one line), or a JSON object with --json. Exit codes: 0 done, 1 failed, 2 bad arguments.",
  "`--password -` and `--secret -` read the value from standard input (kept out of ps and shell history).",
  "Uses DATABASE_URL (PostgreSQL) when set, else the embedded database in DATA_DIR (default .data),",
  "which only one process may open: while the server runs, commands go to it through DATA_DIR/admin.sock",
  "(except migrate: the server migrated itself).",
].join("\n");

/** Every command, read or write, needs the folder: PGlite gives it to one process. */
const EMBEDDED_HELD = (name: string, error: EmbeddedDatabaseLockedError, reason: string) =>
  `"${name}" needs the embedded database in ${error.dataDir}, which process ${error.pid} (the server?) holds, ` +
  `and its admin socket ${adminSocketPath(error.dataDir)} did not answer: ${reason}. ` +
  `Stop that process, or set DATABASE_URL to use PostgreSQL.`;

/**
 * A group alone (`user`) or with a subcommand it does not have (`user frobnicate`): its
 * subcommands, on stderr with exit 2 like every usage error; anything else: unknown.
 */
function unknownCommand(argv: string[], io: TAdminIo): number {
  const group = COMMANDS.filter((c) => c.name.split(" ")[0] === argv[0] && c.name.includes(" "));
  if (group.length === 0) {
    io.stderr.write(`admin: unknown command "${argv[0]}" (see: npm run admin -- help)\n`);
    return 2;
  }
  const asked = argv[1] === undefined ? `"${argv[0]}" needs a subcommand` : `unknown command "${argv[0]} ${argv[1]}"`;
  const lines = group.map((c) => `  ${c.usage}\n      ${c.summary}`);
  io.stderr.write(`admin: ${asked}. ${argv[0]} commands:\n${lines.join("\n")}\n`);
  return 2;
}

/**
 * The admin CLI as a function: validates `argv` completely before touching any database, runs
 * one command, prints its result, and returns the exit code (0 done, 1 failed, 2 usage).
 */
export async function runAdmin(argv: string[], io: TAdminIo): Promise<number> {
  const fail = (code: 1 | 2, message: string) => {
    io.stderr.write(`admin: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    return code;
  };
  if (argv.length === 0) return fail(2, "no command given (see: npm run admin -- help)");
  if (["help", "--help", "-h"].includes(argv[0]!)) {
    io.stdout.write(`${ADMIN_USAGE}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => argv.slice(0, c.name.split(" ").length).join(" ") === c.name);
  if (!command) return unknownCommand(argv, io);

  let input: unknown;
  let json: boolean;
  let stdin: string | undefined;
  try {
    const args = argv.slice(command.name.split(" ").length);
    const fromStdin = args.findIndex((a, i) => args[i + 1] === STDIN_VALUE && STDIN_OPTIONS.includes(a)) + 1;
    if (fromStdin > 0) stdin = await (io.readStdin ?? readProcessStdin)();
    if (stdin !== undefined) args[fromStdin] = stdin.replace(/\r?\n$/, "");
    ({ input, json } = parseCommandArgs(command, args));
  } catch (error) {
    return fail(2, `${command.name}: ${(error as Error).message} Usage: ${command.usage}`);
  }

  let db = io.db;
  try {
    if (!db) db = await openConfiguredDatabase(io, !command.migratesItself);
    const log = (line: string) => io.stderr.write(`${line}\n`);
    // A database handed in comes with its secrets (or none); the CLI's own embedded folder keeps its own.
    const secrets = async () =>
      io.secrets ?? (io.db ? loadConfig(io.env) : await withLocalSecrets(loadConfig(io.env))).secrets;
    const result = await command.run({ db, log, secrets }, input);
    const text = json ? JSON.stringify(result.json) : result.text;
    if (text) io.stdout.write(`${text}\n`);
    return 0;
  } catch (error) {
    if (error instanceof EmbeddedDatabaseLockedError) {
      // The server holds the folder: it runs the command (the stdin value travels in the request, never in ps).
      try {
        return await forwardToAdminSocket(adminSocketPath(error.dataDir), { argv, stdin }, io);
      } catch (unanswered) {
        return fail(1, EMBEDDED_HELD(command.name, error, (unanswered as Error).message));
      }
    }
    if (error instanceof CommandFailedError || error instanceof ConfigError) return fail(1, error.message);
    return fail(1, `${command.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (db && !io.db) await db.close().catch(() => undefined);
  }
}

function parseCommandArgs(command: TCommand<unknown>, args: string[]): { input: unknown; json: boolean } {
  const flags = Object.fromEntries(
    Object.entries(command.options).map(([name, o]) => [
      name,
      { type: o.switch ? ("boolean" as const) : ("string" as const) },
    ]),
  );
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: { ...flags, json: { type: "boolean" } },
  });
  const { json = false, ...given } = values as Record<string, string | boolean | undefined> & { json?: boolean };
  const missing = Object.entries(command.options).filter(([name, o]) => o.required && given[name] === undefined);
  if (missing.length)
    throw new UsageError(
      `${missing.map(([name]) => `--${name}`).join(", ")} ${missing.length > 1 ? "are" : "is"} required.`,
    );
  const parsed = command.input.safeParse(given);
  if (!parsed.success) throw new UsageError(`${describeInputError(parsed.error)}.`);
  return { input: parsed.data, json };
}

/**
 * DATABASE_URL → PostgreSQL, else the embedded folder (refused with EmbeddedDatabaseLockedError
 * while the server holds it).
 */
async function openConfiguredDatabase(io: TAdminIo, applyMigrations: boolean): Promise<TDatabase> {
  const config = loadConfig(io.env);
  return openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.database.dataDir,
    poolMax: 2,
    migrate: applyMigrations,
    log: (line) => io.stderr.write(`${line}\n`),
  });
}
