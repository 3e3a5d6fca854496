import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffMigrationsToSchema } from "../../prisma/tools/create-migration.ts";
import { type TDatabase, withSqlClient } from "../../server/db/database.ts";
import { applyMigrations, MigrationError } from "../../server/db/migrate.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { stringContaining, stringMatching } from "../support/matchers.ts";

let db: TDatabase;
let tmp: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "fse-migrations-"));
});

afterAll(async () => {
  await db?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** Runs `fn` on one session whose unqualified names land in a new, empty schema. */
function inFreshSchema<T>(schema: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withSqlClient(db, async (client) => {
    await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
    try {
      return await fn(client);
    } finally {
      await client.query(`SET search_path TO public; DROP SCHEMA ${schema} CASCADE`);
    }
  });
}

async function writeMigration(dir: string, name: string, sql: string): Promise<void> {
  await fs.mkdir(path.join(dir, name), { recursive: true });
  await fs.writeFile(path.join(dir, name, "migration.sql"), sql);
}

describe("migrations", () => {
  it("the migration history produces exactly schema.prisma", async () => {
    expect(await diffMigrationsToSchema()).toBe("");
  }, 180_000);

  it("applies the history once into an empty schema, then nothing", async () => {
    await inFreshSchema("fresh", async (client) => {
      const history = (
        await fs.readdir(path.resolve(import.meta.dirname, "../../prisma/migrations"), { withFileTypes: true })
      )
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
      const first = await applyMigrations(client);
      expect(first.applied).toEqual(history);
      expect(first.applied[0]).toMatch(/^\d{14}_init$/);
      expect(await applyMigrations(client)).toEqual({ applied: [] });
      const { rows } = await client.query(
        "SELECT checksum, applied_steps_count, finished_at IS NOT NULL AS finished FROM _prisma_migrations",
      );
      const applied = { checksum: stringMatching(/^[0-9a-f]{64}$/), applied_steps_count: 1, finished: true };
      expect(rows).toEqual(history.map(() => applied));
    });
  });

  it("the test database is already migrated", async () => {
    expect(await withSqlClient(db, (client) => applyMigrations(client))).toEqual({ applied: [] });
    expect(await db.prisma.user.count()).toBe(0);
  });

  it("rolls a failing migration back whole, records it, and refuses to go on", async () => {
    const dir = path.join(tmp, "atomic");
    await writeMigration(dir, "20990101000000_good", 'CREATE TABLE "good_thing" (id int);');
    await writeMigration(
      dir,
      "20990101000001_broken",
      'CREATE TABLE "broken_thing" (id int);\nINSERT INTO "good_thing" VALUES (1);\nSELECT no_such_function();\n',
    );
    await writeMigration(dir, "20990101000002_later", 'CREATE TABLE "later_thing" (id int);');
    const lines: string[] = [];
    await inFreshSchema("atomic", async (client) => {
      const failure = await applyMigrations(client, { dir, log: (line) => lines.push(line) }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(MigrationError);
      expect(failure).toMatchObject({
        migrationName: "20990101000001_broken",
        message: stringContaining("no_such_function"),
      });

      const tables = await client.query(
        "SELECT to_regclass('good_thing') IS NOT NULL AS good, to_regclass('broken_thing') IS NOT NULL AS broken, " +
          "to_regclass('later_thing') IS NOT NULL AS later",
      );
      expect(tables.rows[0]).toEqual({ good: true, broken: false, later: false });
      expect((await client.query('SELECT count(*)::int AS n FROM "good_thing"')).rows[0]).toEqual({ n: 0 });

      const row = await client.query(
        "SELECT logs, finished_at, applied_steps_count FROM _prisma_migrations " +
          "WHERE migration_name = '20990101000001_broken'",
      );
      expect(row.rows).toEqual([
        { logs: stringContaining("no_such_function"), finished_at: null, applied_steps_count: 0 },
      ]);

      const refusal = await applyMigrations(client, { dir }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(MigrationError);
      expect(refusal).toMatchObject({
        migrationName: "20990101000001_broken",
        message: stringContaining("20990101000001_broken"),
      });
      expect((await client.query("SELECT to_regclass('later_thing') IS NULL AS absent")).rows[0]).toEqual({
        absent: true,
      });
      // The lock was released: a session-level advisory lock left behind would block the next deploy.
      const locks = await client.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE l.locktype = 'advisory' AND l.objid = 72707369 AND d.datname = current_database()`,
      );
      expect(locks.rows[0]).toEqual({ n: 0 });
    });
    expect(lines).toContain("applying migration 20990101000001_broken");
  });

  it("warns when an applied migration was edited afterwards, not when only its line endings changed", async () => {
    const dir = path.join(tmp, "edited");
    const name = "20990201000000_first";
    await writeMigration(dir, name, '-- first\nCREATE TABLE "first_thing" (id int);\n');
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    await inFreshSchema("edited", async (client) => {
      await applyMigrations(client, { dir });
      await writeMigration(dir, name, '-- first\r\nCREATE TABLE "first_thing" (id int);\r\n');
      expect(await applyMigrations(client, { dir, log })).toEqual({ applied: [] });
      expect(lines).toEqual([]);
      await writeMigration(dir, name, '-- first\nCREATE TABLE "first_thing" (id bigint);\n');
      expect(await applyMigrations(client, { dir, log })).toEqual({ applied: [] });
    });
    expect(lines).toEqual([`warning: migration ${name} was edited after it was applied`]);
  });
});
