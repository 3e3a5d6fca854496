import type pg from "pg";
import { withSqlClient, type TDatabase } from "./database.ts";
import { isTransientDatabaseError } from "./transient-errors.ts";

/**
 * A transaction on a raw `pg` connection from the same pool Prisma uses. The ingest hot path
 * runs here: Prisma's raw queries cost about 2.5× a plain `pg` round trip for the same
 * statement (npm run bench), and the path is all set-based raw SQL anyway.
 */
export type TSqlTx = {
  /** Tagged template: `${value}`s become $1, $2… parameters (arrays as PostgreSQL arrays). */
  rows<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  /**
   * The same, sent as the named prepared statement `name`: parsed and planned once per connection
   * (PostgreSQL may then keep a generic plan). One name, one statement text.
   */
  prepared(name: string): Pick<TSqlTx, "rows">;
};

function toQuery(strings: TemplateStringsArray, values: unknown[], name?: string): pg.QueryConfig {
  return { text: strings.reduce((text, part, i) => `${text}$${i}${part}`), values, ...(name ? { name } : {}) };
}

function sqlTx(client: pg.PoolClient, name?: string): TSqlTx {
  return {
    rows: async <T>(strings: TemplateStringsArray, ...values: unknown[]) =>
      (await client.query(toQuery(strings, values, name))).rows as T[],
    prepared: (statementName) => sqlTx(client, statementName),
  };
}

export type TTransactionOptions = {
  /**
   * Plan the transaction's named statements once per connection (`plan_cache_mode`), for
   * statements whose shape leaves only index plans driven by parameter arrays. A cached plan
   * outlives the table sizes it was made for: it is only rebuilt when ANALYZE runs, and a fresh
   * database may never be analyzed (autovacuum off, or not yet), so a plan that depends on the
   * tables' sizes must not be cached — a statement can switch the rest of the transaction back
   * with `set_config('plan_cache_mode', 'force_custom_plan', true)`.
   */
  genericPlans?: boolean;
};

const BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED";
// Simple-protocol text, so both statements go in one round trip.
const BEGIN_GENERIC = `${BEGIN}; SET LOCAL plan_cache_mode = force_generic_plan`;

/** Runs `fn` in one READ COMMITTED transaction: committed when it resolves, rolled back when it throws. */
export function inTransaction<T>(
  db: TDatabase,
  fn: (tx: TSqlTx) => Promise<T>,
  opts: TTransactionOptions = {},
): Promise<T> {
  return withSqlClient(db, async (client) => {
    await client.query(opts.genericPlans ? BEGIN_GENERIC : BEGIN);
    try {
      const result = await fn(sqlTx(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // A lost or unanswering connection is destroyed on release, and the server rolls back what
      // it had; a ROLLBACK sent there would only wait for the same silence.
      if (!isTransientDatabaseError(err)) await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}

/**
 * One statement outside a transaction, sent as the named prepared statement `name` on a pooled
 * connection. For reads on paths that must not wake Prisma: its query compiler costs tens of MB
 * of memory the first time any Prisma query runs (docs/performance.md, "Production start").
 */
export function preparedQuery(db: TDatabase, name: string): Pick<TSqlTx, "rows"> {
  return {
    rows: <T>(strings: TemplateStringsArray, ...values: unknown[]) =>
      withSqlClient(db, (client) => sqlTx(client, name).rows<T>(strings, ...values)),
  };
}
