import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { inTransaction, namedSql, sql, type TSqlTx } from "../../server/db/sql.ts";
import { isRetryable } from "../../server/tracking/ingest/transaction-retry.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * TSqlTx.together sends statements in the simple protocol with their values written in as literals
 * (and a prepared statement as EXECUTE): whatever a value holds must come back exactly as sent.
 */
let db: TDatabase;
let statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ onQuery: (text) => void statements.push(text) });
  await db.prisma.$executeRawUnsafe(`CREATE TABLE test_commit_with (id text PRIMARY KEY)`);
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

describe("the last statement sent with COMMIT", () => {
  const insert = (id: string) => namedSql("test_commit_with_insert")`INSERT INTO test_commit_with (id)
    VALUES (${id}) RETURNING id`;
  const stored = async () =>
    (await db.prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM test_commit_with ORDER BY id`)).map((r) => r.id);
  /** Opens the transaction with an unnamed statement, then ends it with `last`. */
  const run = (last: (tx: TSqlTx) => Promise<unknown>) =>
    inTransaction(db, async (tx) => {
      await tx.together(sql`INSERT INTO test_commit_with (id) VALUES (${"opened-" + Math.random()})`);
      return last(tx);
    });

  it("goes in one round trip with COMMIT once the connection holds the statement, and is committed", async () => {
    await db.prisma.$executeRawUnsafe(`TRUNCATE test_commit_with`);
    statements = [];
    expect(await run((tx) => tx.commitWith(insert("first")))).toEqual([{ id: "first" }]);
    // First time on this connection: prepared through the extended protocol, COMMIT on its own.
    expect(statements.slice(1)).toEqual([expect.stringMatching(/^INSERT INTO test_commit_with/), "COMMIT"]);
    statements = [];
    expect(await run((tx) => tx.commitWith(insert("second")))).toEqual([{ id: "second" }]);
    expect(statements).toHaveLength(2);
    expect(statements[1]).toBe("EXECUTE test_commit_with_insert('second');\nCOMMIT");
    expect(await stored()).toEqual(expect.arrayContaining(["first", "second"]));
    expect(await stored()).toHaveLength(4);
  });

  it("a last statement that fails leaves nothing of the transaction: its COMMIT never runs", async () => {
    await db.prisma.$executeRawUnsafe(`TRUNCATE test_commit_with`);
    await run((tx) => tx.commitWith(insert("taken")));
    statements = [];
    const failed = run((tx) => tx.commitWith(insert("taken")));
    await expect(failed).rejects.toMatchObject({ code: "23505" });
    // A unique violation is a lost race: the whole transaction may run again.
    expect(isRetryable(await failed.catch((err: unknown) => err))).toBe(true);
    expect(statements).toContain("ROLLBACK");
    expect(await stored()).toEqual([expect.stringMatching(/^opened-/), "taken"]);
    // The connection is back in a clean state for the next transaction.
    expect(await run((tx) => tx.commitWith(insert("after")))).toEqual([{ id: "after" }]);
  });

  it("nothing runs after it, and a failure after it is reported as such, never retried", async () => {
    await db.prisma.$executeRawUnsafe(`TRUNCATE test_commit_with`);
    await run((tx) => tx.commitWith(insert("warm")));
    const late = run(async (tx) => {
      await tx.commitWith(insert("committed"));
      return tx.together(sql`SELECT 1`);
    });
    await expect(late).rejects.toThrow(/committed, then failed/);
    const err = await late.catch((e: unknown) => e);
    expect(((err as Error).cause as Error).message).toMatch(/already committed/);
    expect(isRetryable(err)).toBe(false);
    expect(await stored()).toContain("committed");
  });
});
