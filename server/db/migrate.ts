import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** The part of a `pg.Client` / `pg.PoolClient` the applier needs; one session throughout. */
export interface TSqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface TApplyMigrationsOptions {
  /** Folder of `<name>/migration.sql` directories; defaults to the repository's `prisma/migrations`. */
  dir?: string;
  log?: (line: string) => void;
}

/** A migration failed now or earlier; the database needs a human before anything else is applied. */
export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

/** The key Prisma's own engine locks, so this applier and `prisma migrate deploy` exclude each other. */
const PRISMA_ADVISORY_LOCK = 72707369;
const DEFAULT_DIR = findMigrationsDir(import.meta.dirname);

/** The nearest `prisma/migrations` above this module: server/db/ from source, dist/ when bundled. */
function findMigrationsDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "prisma", "migrations");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(from, "../../prisma/migrations");
  }
}

/** Same table and columns as Prisma's engine creates, so its tooling reads our history. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

interface TMigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  logs: string | null;
}

interface TLocalMigration {
  name: string;
  script: string;
  checksum: string;
}

function sha256(script: string): Buffer {
  return createHash("sha256").update(script).digest();
}

/**
 * As Prisma's engine decides it: a checkout with other line endings (git on Windows) is not an
 * edit, and very old engines wrote hex without zero padding.
 */
function matchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")].map(sha256);
  return variants.some((digest) =>
    checksum.length === 64
      ? digest.toString("hex") === checksum
      : [...digest].map((byte) => byte.toString(16)).join("") === checksum,
  );
}

async function readLocalMigrations(dir: string): Promise<TLocalMigration[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const script = await fs.readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, script, checksum: sha256(script).toString("hex") };
    }),
  );
}

/**
 * Applies the new migrations of `dir` the way Prisma's schema engine does, without its native
 * binary (docs/migrations.md): under Prisma's advisory lock, each script in one simple-protocol call
 * (one implicit transaction, so a failing migration leaves nothing behind), recorded in
 * `_prisma_migrations`. Refuses to run while an earlier migration is recorded as failed.
 */
export async function applyMigrations(
  client: TSqlClient,
  opts: TApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {});
  const local = await readLocalMigrations(opts.dir ?? DEFAULT_DIR);
  await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK]);
  try {
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, started_at, logs
         FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const history = rows as TMigrationRow[];
    const failed = history.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        failed.migration_name,
        `Migration ${failed.migration_name} (started ${failed.started_at.toISOString()}) did not finish, so no ` +
          `migration is applied. Repair the database by hand, then mark it rolled back ` +
          `(UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}' ` +
          `AND finished_at IS NULL) and start again. Its error: ${failed.logs ?? "(none recorded)"}`,
      );
    }
    const finished = history.filter((row) => row.finished_at !== null && row.rolled_back_at === null);
    const done = new Map(finished.map((row) => [row.migration_name, row]));
    for (const row of done.values()) {
      const file = local.find((m) => m.name === row.migration_name);
      if (!file) log(`warning: migration ${row.migration_name} is applied but missing from the migrations folder`);
      else if (!matchesChecksum(file.script, row.checksum))
        log(`warning: migration ${row.migration_name} was edited after it was applied`);
    }
    const applied: string[] = [];
    for (const migration of local.filter((m) => !done.has(m.name))) {
      await applyOne(client, migration, log);
      applied.push(migration.name);
    }
    return { applied };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK]).catch((error: Error) => {
      log(`warning: could not release the migration lock: ${error.message}`);
    });
  }
}

async function applyOne(client: TSqlClient, migration: TLocalMigration, log: (line: string) => void): Promise<void> {
  const id = randomUUID();
  log(`applying migration ${migration.name}`);
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    // No values: pg sends a simple query, so the whole script is one implicit transaction.
    await client.query(migration.script);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message]).catch((e: Error) => {
      log(`warning: could not record the failure of ${migration.name}: ${e.message}`);
    });
    throw new MigrationError(migration.name, `Migration ${migration.name} failed and was rolled back: ${message}`);
  }
  await client.query(
    `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE id = $1`,
    [id],
  );
}
