import { afterAll, beforeAll, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * Every text column an index covers compares byte by byte (COLLATE "C"): under a libc locale the
 * database's default collation makes each comparison on the way down a B-tree a strcoll() call,
 * on every id lookup, unique check and index insert of the ingest path (docs/performance.md).
 * Prisma's schema cannot state a collation, so a new migration has to; this holds it to that.
 */
let db: TDatabase;
beforeAll(async () => (db = await createTestDatabase()), 60_000);
afterAll(() => db?.close());

type TIndexedColumn = { table: string; column: string; collation: string };

const indexedTextColumns = () =>
  db.prisma.$queryRawUnsafe<TIndexedColumn[]>(
    `SELECT DISTINCT t.relname AS table, a.attname AS column, c.collname AS collation
     FROM pg_index x
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
     JOIN pg_collation c ON c.oid = a.attcollation
    WHERE n.nspname = current_schema() AND t.relkind = 'r' AND t.relname <> '_prisma_migrations'
      AND a.atttypid IN ('text'::regtype, 'varchar'::regtype)
    ORDER BY 1, 2`,
  );

it('every indexed text column of the schema is COLLATE "C"', async () => {
  const columns = await indexedTextColumns();
  // The ingest path's keys are among them: the rule is not vacuously true.
  expect(columns.map((c) => `${c.table}.${c.column}`)).toEqual(
    expect.arrayContaining([
      "profile_identifiers.value",
      "profiles.id",
      "tracking_events.message_id",
      "profile_events.profile_id",
      "users.email",
    ]),
  );
  expect(columns.filter((c) => c.collation !== "C")).toEqual([]);
});
