import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { inTransaction, namedSql, sql } from "../../server/db/sql.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * TSqlTx.together sends statements in the simple protocol with their values written in as literals
 * (and a prepared statement as EXECUTE): whatever a value holds must come back exactly as sent.
 */
let db: TDatabase;
let statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ onQuery: (text) => void statements.push(text) });
});
afterAll(async () => {
  await db?.close();
});

const awkward = ["plain", "it's", 'say "hi"', "back\\slash", "\\\"'", "", "ünï ☃ 𝄞", "NULL", "{a,b}", " spaced "];

describe("statements sent together, values as literals", () => {
  it("text, arrays with quotes, backslashes, NULL elements and braces, numbers, dates round-trip", async () => {
    const at = new Date("2026-12-01T06:30:00.123Z");
    const [rows] = await inTransaction(db, (tx) =>
      tx.together(
        sql`SELECT ${awkward}::text[] AS texts, ${["a", null, "c"]}::text[] AS holes, ${"it's"}::text AS one,
          ${42}::int AS n, ${["-9223372036854775808", "7"]}::bigint[] AS keys, ${at}::timestamptz AS at,
          ${null}::text AS nothing, ${[]}::text[] AS empty`,
      ),
    );
    expect(rows).toEqual([
      {
        texts: awkward,
        holes: ["a", null, "c"],
        one: "it's",
        n: 42,
        keys: ["-9223372036854775808", "7"],
        at,
        nothing: null,
        empty: [],
      },
    ]);
  });

  it("a named statement runs prepared the first time on a connection, then as EXECUTE in one round trip", async () => {
    const echo = (values: string[]) => namedSql("test_together_echo")`SELECT ${values}::text[] AS v, ${"x"} AS x`;
    statements = [];
    const first = await inTransaction(db, (tx) => tx.together(sql`SELECT 1 AS one`, echo(awkward)));
    const firstCount = statements.length;
    statements = [];
    const second = await inTransaction(db, (tx) => tx.together(sql`SELECT 1 AS one`, echo(["again", "it's"])));
    expect(first).toEqual([[{ one: 1 }], [{ v: awkward, x: "x" }]]);
    expect(second).toEqual([[{ one: 1 }], [{ v: ["again", "it's"], x: "x" }]]);
    // BEGIN with the first statement, the prepared one, COMMIT; then everything but COMMIT at once.
    expect(firstCount).toBe(3);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(
      /^BEGIN.*SELECT 1 AS one;\nEXECUTE test_together_echo\('\{"again","it''s"\}', 'x'\)$/s,
    );
  });

  it("a value that is no SQL value is refused before anything is sent", async () => {
    statements = [];
    await expect(inTransaction(db, (tx) => tx.together(sql`SELECT ${{ a: 1 }}::text`))).rejects.toThrow(
      /no SQL literal for object/,
    );
    expect(statements).toEqual([]);
  });
});
