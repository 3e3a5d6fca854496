import { afterAll, beforeAll, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * Every ingest request rewrites its profiles' and funnel links' counters and seen-times. Those
 * UPDATEs stay HOT (no index entries written, no index page dirtied) only while no index covers
 * a column they set and the pages keep room for the new row version: what keeps a database of a
 * million profiles close to the cost of a small one (docs/performance.md).
 */
const UPDATED_BY_INGEST = {
  profiles: ["event_count", "server_event_count", "pageview_count", "first_seen_at", "last_seen_at"],
  profile_funnel_links: ["event_count", "first_seen_at", "last_seen_at"],
} as const;

let db: TDatabase;
beforeAll(async () => (db = await createTestDatabase()), 60_000);
afterAll(() => db?.close());

it.each(Object.entries(UPDATED_BY_INGEST))(
  "%s: no index covers a column every ingest updates",
  async (table, columns) => {
    const indexed = await db.prisma.$queryRawUnsafe<{ index: string; column: string }[]>(
      `SELECT i.relname AS index, a.attname AS column
       FROM pg_index x
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
      WHERE t.relname = $1`,
      table,
    );
    expect(indexed.length).toBeGreaterThan(0);
    expect(indexed.filter((r) => (columns as readonly string[]).includes(r.column))).toEqual([]);
  },
);

it.each(Object.keys(UPDATED_BY_INGEST))(
  "%s: a tenth of each page stays free for the next row version",
  async (table) => {
    const [row] = await db.prisma.$queryRawUnsafe<{ options: string[] | null }[]>(
      `SELECT reloptions AS options FROM pg_class WHERE relname = $1 AND relkind = 'r'`,
      table,
    );
    expect(row?.options).toEqual(["fillfactor=90"]);
  },
);
