import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { applyMigrations } from "../../server/db/migrate.ts";

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");
/** Serialises template creation across vitest's parallel workers. */
const TEMPLATE_LOCK = 0x66_73_65_74; // "fset"

export interface TTestDatabaseOptions {
  onQuery?: (sql: string) => void;
}

/**
 * A fresh, migrated database of the caller's own. With TEST_DATABASE_URL: a PostgreSQL
 * database cloned from a template migrated once per migration set (`CREATE DATABASE … TEMPLATE`
 * is fast), dropped again by `close()`. Without it: an in-memory PGlite.
 */
export async function createTestDatabase(opts: TTestDatabaseOptions = {}): Promise<TDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return openDatabase({ dataDir: "memory://", onQuery: opts.onQuery });

  const clone = await cloneTemplateDatabase(adminUrl);
  const db = await openDatabase({ databaseUrl: clone.url, migrate: false, poolMax: 5, onQuery: opts.onQuery });
  const close = db.close.bind(db);
  db.close = async () => {
    await close();
    await clone.drop();
  };
  return db;
}

export type TClonedDatabase = { name: string; url: string; drop: () => Promise<void> };

/**
 * A new, migrated PostgreSQL database cloned from the template, for callers that hand its URL
 * to other processes (the soak's servers). `drop()` removes it, ending any connection left.
 */
export async function cloneTemplateDatabase(adminUrl: string, prefix = "fse_test"): Promise<TClonedDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK]);
    try {
      const template = await ensureTemplate(admin, adminUrl);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK]);
    }
  });
  return {
    name,
    url: urlFor(adminUrl, name),
    drop: async () => {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Named after the migration files, so a new or edited migration gets a new template. */
async function ensureTemplate(admin: pg.Client, adminUrl: string): Promise<string> {
  const hash = createHash("sha256");
  const dirs = (await fs.readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory());
  for (const dir of dirs.map((e) => e.name).sort()) {
    hash.update(dir).update(await fs.readFile(path.join(MIGRATIONS_DIR, dir, "migration.sql")));
  }
  const template = `fse_template_${hash.digest("hex").slice(0, 16)}`;
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
  if (exists.rows.length > 0) return template;

  // Build under another name and rename when done, so a crash never leaves a half-migrated template.
  const building = `${template}_building`;
  await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${building}"`);
  await withAdmin(urlFor(adminUrl, building), (client) => applyMigrations(client, { dir: MIGRATIONS_DIR }));
  await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  return template;
}

function urlFor(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `fn` on a short-lived connection to `url` (the admin database). */
export async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
