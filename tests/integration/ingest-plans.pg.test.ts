import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { sqlLiteral, type TSqlTx } from "../../server/db/sql.ts";
import { findOwners, openBatch } from "../../server/tracking/ingest/ingest.repo.ts";
import type { TIdentifier } from "../../server/tracking/ingest/plan-profiles.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * The ingest lookups run as cached generic plans. A fresh database is never analyzed (autovacuum
 * may be off, and is not instant), so the plan PostgreSQL caches on the first request is made for
 * empty tables and kept as they grow. These tests cache the plans on an empty database, grow it,
 * and read the executed plans' buffer counts (auto_explain, sent to this client as notices).
 */
const GROWN = 20_000;
const PROBED = 20;

type TPlan = { Plan: { "Shared Hit Blocks": number; "Shared Read Blocks": number } };

let db: TDatabase;
let ws: TSeededWorkspace;
let client: pg.Client;
const plans: TPlan[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ws = await seedWorkspace(db.prisma);
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on("notice", (notice) => {
    const json = notice.message?.split("plan:\n")[1];
    if (json) plans.push(JSON.parse(json) as TPlan);
  });
  await client.query(`LOAD 'auto_explain';
    SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on;
    SET auto_explain.log_format = json; SET auto_explain.log_level = notice;
    SET plan_cache_mode = force_generic_plan`);
});
afterAll(async () => {
  await client?.end();
  await db?.close();
});

/** An unnamed statement as the ingest sends it: in the simple protocol, its values as literals. */
async function inline(c: pg.Client, strings: readonly string[], values: unknown[]): Promise<unknown[]> {
  const text = strings.reduce((sql, part, i) => `${sql}${sqlLiteral(values[i - 1])}${part}`);
  return (await c.query<Record<string, unknown>>(text)).rows;
}

/** The repository's statements on this one connection, as the ingest sends them (named, same text). */
function sqlOn(c: pg.Client, name?: string): TSqlTx {
  return {
    rows: async <T>(strings: readonly string[], ...values: unknown[]) => {
      const text = strings.reduce((sql, part, i) => `${sql}$${i}${part}`);
      return (await c.query({ text, values, ...(name ? { name } : {}) })).rows as T[];
    },
    prepared: (statementName) => sqlOn(c, statementName),
    // One by one, the named ones as prepared statements: what the ingest sends on a fresh connection.
    together: async (...statements) => {
      const answers: unknown[][] = [];
      for (const { name: named, strings, values } of statements)
        answers.push(await (named ? sqlOn(c, named).rows(strings, ...values) : inline(c, strings, values)));
      return answers;
    },
    commitWith: () => Promise.reject(new Error("the lookups write nothing and commit nothing")),
  };
}

/**
 * Runs the lookups in a transaction rolled back afterwards; answers them with the buffers their
 * executed plans read (a statement's plan is reported when its portal closes, at the latest at ROLLBACK).
 */
async function lookUp(identifiers: TIdentifier[], messageIds: string[]) {
  const tx = sqlOn(client);
  plans.length = 0;
  await client.query("BEGIN");
  try {
    const opened = await openBatch(tx, { workspaceId: ws.workspace.id, siteId: ws.site.id }, [], identifiers, {
      scope: "TRUSTED",
      ids: messageIds,
    });
    const state = opened!.locked;
    const owners = await findOwners(tx, ws.workspace.id, identifiers);
    return { state, owners };
  } finally {
    await client.query("ROLLBACK");
  }
}

const blocksRead = () => plans.map((p) => p.Plan["Shared Hit Blocks"] + p.Plan["Shared Read Blocks"]);

/** GROWN people, each a profile with a VISITOR identifier and one recorded event. */
async function grow() {
  await client.query(
    `INSERT INTO profiles (id, workspace_id, first_seen_at, last_seen_at, created_at)
     SELECT 'prf_grown_' || n, $1, now(), now(), now() FROM generate_series(1, $2::int) AS n`,
    [ws.workspace.id, GROWN],
  );
  await client.query(
    `INSERT INTO profile_identifiers (workspace_id, kind, value, profile_id, created_at)
     SELECT $1, 'VISITOR', 'v_grown_' || n, 'prf_grown_' || n, now() FROM generate_series(1, $2::int) AS n`,
    [ws.workspace.id, GROWN],
  );
  await client.query(
    `INSERT INTO tracking_events (id, workspace_id, site_id, source, message_scope, type, profile_id, channel,
       channel_rule, message_id, occurred_at, received_at)
     SELECT 'evt_grown_' || n, $1, $2, 'SERVER', 'TRUSTED', 'pageview', 'prf_grown_' || n, 'direct', 'none',
       'm_grown_' || n, now(), now()
     FROM generate_series(1, $3::int) AS n`,
    [ws.workspace.id, ws.site.id, GROWN],
  );
}

const probed = Array.from({ length: PROBED }, (_, i) => i * 997 + 1);
const visitors = probed.map((n): TIdentifier => ({ kind: "VISITOR", value: `v_grown_${n}` }));
const messageIds = probed.map((n) => `m_grown_${n}`);

describe("ingest lookups planned on an empty database", () => {
  it("stay index probes once the tables have grown", async () => {
    const empty = await lookUp(visitors, messageIds);
    expect(empty.state.lockedProfileIds.size).toBe(0);

    await grow();
    const grown = await lookUp(visitors, messageIds);
    expect([...grown.state.lockedProfileIds].sort()).toEqual(probed.map((n) => `prf_grown_${n}`).sort());
    expect(grown.state.recorded.map((r) => r.messageId).sort()).toEqual([...messageIds].sort());
    expect(grown.owners).toHaveLength(PROBED);
    // Nothing changed the profiles while the lock statement waited: its own owners stand, the same rows.
    expect(grown.state.owners).toEqual(grown.owners);
    // The site check (sent inline, planned per call), the row lock as the plan cached while empty,
    // and the owners statement (planned per call, as in the ingest on tables never analyzed): a
    // probe costs a few pages per key, a scan thousands.
    expect(blocksRead()).toHaveLength(3);
    for (const blocks of blocksRead()) expect(blocks).toBeLessThan(PROBED * 25);
  });
});
