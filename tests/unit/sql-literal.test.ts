import fc from "fast-check";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { sqlLiteral } from "../../server/db/sql.ts";

/**
 * The ingest sends its statements' values as string constants (TSqlTx.together, commitWith).
 * Ours are built with regexes for speed; they must be exactly what `pg.escapeLiteral` writes.
 * (tests/integration/sql-together.test.ts reads such values back through PostgreSQL itself.)
 */
describe("sqlLiteral", () => {
  it("writes any string exactly as pg.escapeLiteral does", () => {
    const awkward = fc.constantFrom("'", "\\", "''", "\\\\", "\\'", "E'", "\u0000x", "ü", "𝄞", '"', "{", ",");
    const text = fc.array(fc.oneof(fc.string({ unit: "grapheme" }), awkward), { maxLength: 8 }).map((p) => p.join(""));
    fc.assert(
      fc.property(text, (s) => {
        expect(sqlLiteral(s)).toBe(pg.escapeLiteral(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("quotes and backslashes: doubled; a backslash makes it an E'' constant", () => {
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral("a\\b")).toBe(" E'a\\\\b'");
    expect(sqlLiteral("plain")).toBe("'plain'");
    expect(sqlLiteral(["it's", null])).toBe(`'{"it''s",NULL}'`);
    expect(sqlLiteral(null)).toBe("NULL");
  });
});
