import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { CHANNELS, EVENT_SOURCES, FUNNEL_STAGES, IDENTIFIER_KINDS, WORKSPACE_ROLES } from "../../server/db/enums.ts";
import { maxStage } from "../../server/tracking/stages.ts";
import { createTestDatabase } from "../support/test-database.ts";

let db: TDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

/** The labels of a database enum in the database's own order (the order `<`, `GREATEST` and `ORDER BY` use). */
async function labelsOf(typeName: string): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ label: string }[]>`
    SELECT e.enumlabel AS label FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
    WHERE t.typname = ${typeName} ORDER BY e.enumsortorder`;
  return rows.map((r) => r.label);
}

describe("the code's enums are the database's, in the database's order", () => {
  it.each([
    ["FunnelStage", FUNNEL_STAGES],
    ["Channel", CHANNELS],
    ["IdentifierKind", IDENTIFIER_KINDS],
    ["WorkspaceRole", WORKSPACE_ROLES],
    ["EventSource", EVENT_SOURCES],
  ] as const)("%s", async (typeName, values) => {
    expect(await labelsOf(typeName)).toEqual([...values]);
  });

  it("GREATEST on stages in SQL agrees with maxStage in code, for every pair", async () => {
    const rows = await db.prisma.$queryRaw<{ a: string; b: string; greatest: string }[]>`
      SELECT a::text, b::text, GREATEST(a, b)::text AS greatest
      FROM unnest(enum_range(NULL::"FunnelStage")) a CROSS JOIN unnest(enum_range(NULL::"FunnelStage")) b`;
    expect(rows).toHaveLength(FUNNEL_STAGES.length ** 2);
    for (const { a, b, greatest } of rows) {
      expect(greatest).toBe(maxStage(a as (typeof FUNNEL_STAGES)[number], b as (typeof FUNNEL_STAGES)[number]));
    }
  });
});
