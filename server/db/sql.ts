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
  /**
   * The same, sent in the simple protocol with the values written into the text as escaped
   * literals. The first statement of a transaction sent this way travels in one round trip with
   * its BEGIN; nothing is prepared or cached, so it suits small statements that open a transaction.
   */
  inline<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
};

function toQuery(strings: TemplateStringsArray, values: unknown[], name?: string): pg.QueryConfig {
  return { text: strings.reduce((text, part, i) => `${text}$${i}${part}`), values, ...(name ? { name } : {}) };
}

/** A value as SQL literal text (the template's own casts give it its type). */
export function sqlLiteral(value: unknown, escape: (text: string) => string): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return escape(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return escape(value.toISOString());
  if (Array.isArray(value)) return `ARRAY[${value.map((v) => sqlLiteral(v, escape)).join(",")}]`;
  throw new TypeError(`no SQL literal for ${typeof value}`);
}

function inlineText(client: pg.PoolClient, strings: TemplateStringsArray, values: unknown[]): string {
  const escape = (text: string) => client.escapeLiteral(text);
  return strings.reduce((text, part, i) => `${text}${sqlLiteral(values[i - 1], escape)}${part}`);
}

/** The rows of the last statement of a (possibly multi-statement) simple query. */
function lastRows<T>(result: pg.QueryResult | pg.QueryResult[]): T[] {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as T[];
}

/**
 * A transaction whose BEGIN is sent with its first statement: as a round trip of its own before a
 * prepared one, in the same simple query as an inline one.
 */
function lazyTx(client: pg.PoolClient, begin: string) {
  let begun = false;
  const open = async () => {
    if (begun) return;
    begun = true;
    await client.query(begin);
  };
  const send =
    (name?: string) =>
    async <T>(strings: TemplateStringsArray, ...values: unknown[]) => {
      await open();
      return (await client.query(toQuery(strings, values, name))).rows as T[];
    };
  const tx: TSqlTx = {
    rows: send(),
    prepared: (name) => ({ rows: send(name) }),
    inline: async <T>(strings: TemplateStringsArray, ...values: unknown[]) => {
      const text = inlineText(client, strings, values);
      const withBegin = !begun;
      // Marked first: if the statement fails, the transaction it opened is rolled back.
      begun = true;
      return lastRows<T>(await client.query(withBegin ? `${begin}; ${text}` : text));
    },
  };
  return { tx, begun: () => begun };
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
// Simple-protocol text, so both statements (and an inline first statement) go in one round trip.
const BEGIN_GENERIC = `${BEGIN}; SET LOCAL plan_cache_mode = force_generic_plan`;

/** Runs `fn` in one READ COMMITTED transaction: committed when it resolves, rolled back when it throws. */
export function inTransaction<T>(
  db: TDatabase,
  fn: (tx: TSqlTx) => Promise<T>,
  opts: TTransactionOptions = {},
): Promise<T> {
  return withSqlClient(db, async (client) => {
    const { tx, begun } = lazyTx(client, opts.genericPlans ? BEGIN_GENERIC : BEGIN);
    try {
      const result = await fn(tx);
      if (begun()) await client.query("COMMIT");
      return result;
    } catch (err) {
      // A lost or unanswering connection is destroyed on release, and the server rolls back what
      // it had; a ROLLBACK sent there would only wait for the same silence.
      if (begun() && !isTransientDatabaseError(err)) await client.query("ROLLBACK").catch(() => undefined);
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
      withSqlClient(db, async (client) => (await client.query(toQuery(strings, values, name))).rows as T[]),
  };
}
