import type pg from "pg";
import { withSqlClient, type TDatabase } from "./database.ts";
import { isTransientDatabaseError } from "./transient-errors.ts";

/**
 * A statement not sent yet: its text as a tagged template, and the name it is prepared under, if
 * any. TSqlTx.together sends several of them in one round trip.
 */
export type TSqlStatement = { name?: string; strings: readonly string[]; values: unknown[] };

const FRAGMENT = Symbol("sql fragment");

/**
 * A piece of a statement: text with its own `${value}`s. Interpolated into a statement it is
 * spliced in (its text as text, its values as the statement's parameters), never sent as a value.
 */
export type TSqlFragment = { readonly [FRAGMENT]: true; strings: readonly string[]; values: unknown[] };

const isFragment = (value: unknown): value is TSqlFragment =>
  typeof value === "object" && value !== null && FRAGMENT in value;

/** A fragment, written as a tagged template. */
export const sqlFragment = (strings: TemplateStringsArray, ...values: unknown[]): TSqlFragment => ({
  [FRAGMENT]: true,
  strings,
  values,
});

/** Constant SQL text (say, a column list built once from a column table), spliced in as it is. */
export const sqlText = (text: string): TSqlFragment => ({ [FRAGMENT]: true, strings: [text], values: [] });

/** Fragments one after the other, `separator` (constant text) between them. */
export function sqlJoin(parts: readonly TSqlFragment[], separator: string): TSqlFragment {
  const strings: string[] = [""];
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    strings[strings.length - 1] += i === 0 ? "" : separator;
    spliceInto(strings, values, part);
  });
  return { [FRAGMENT]: true, strings, values };
}

/** Appends `fragment` (its fragments spliced in too) to a statement being built. */
function spliceInto(strings: string[], values: unknown[], fragment: { strings: readonly string[]; values: unknown[] }) {
  strings[strings.length - 1] += fragment.strings[0] ?? "";
  fragment.values.forEach((value, i) => {
    const next = fragment.strings[i + 1] ?? "";
    if (isFragment(value)) {
      spliceInto(strings, values, value);
      strings[strings.length - 1] += next;
    } else {
      values.push(value);
      strings.push(next);
    }
  });
}

/** The statement with its fragments spliced in; as it is when it has none (the common case, no copy). */
function composed(strings: readonly string[], values: unknown[]): { strings: readonly string[]; values: unknown[] } {
  if (!values.some(isFragment)) return { strings, values };
  const out: string[] = [""];
  const flat: unknown[] = [];
  spliceInto(out, flat, { strings, values });
  return { strings: out, values: flat };
}

/** An unnamed statement for TSqlTx.together (sent with its values as escaped literals). */
export const sql = (strings: TemplateStringsArray, ...values: unknown[]): TSqlStatement => composed(strings, values);

/** A statement prepared under `name` on each connection (one name, one text), for TSqlTx.together. */
export const namedSql =
  (name: string) =>
  (strings: TemplateStringsArray, ...values: unknown[]): TSqlStatement => ({ name, ...composed(strings, values) });

/**
 * A transaction on a raw `pg` connection from the same pool Prisma uses. The ingest hot path
 * runs here: Prisma's raw queries cost about 2.5× a plain `pg` round trip for the same
 * statement (npm run bench), and the path is all set-based raw SQL anyway.
 * Its BEGIN is sent with its first statement: in the same round trip when that statement goes in
 * the simple protocol (together), as a round trip of its own before a prepared one.
 */
export type TSqlTx = {
  /** Tagged template: `${value}`s become $1, $2… parameters (arrays as PostgreSQL arrays). */
  rows<T>(strings: readonly string[], ...values: unknown[]): Promise<T[]>;
  /**
   * The same, sent as the named prepared statement `name`: parsed and planned once per connection
   * (PostgreSQL may then keep a generic plan). One name, one statement text.
   */
  prepared(name: string): Pick<TSqlTx, "rows">;
  /**
   * Several statements in ONE round trip (a simple query; in READ COMMITTED each statement still
   * takes its own snapshot, after the one before it finished), answering each one's rows. A named
   * statement goes as `EXECUTE name(…)` with its cached plan once this connection has prepared it;
   * until then the statements go one by one, the named ones as prepared statements.
   */
  together(...statements: TSqlStatement[]): Promise<unknown[][]>;
  /**
   * The transaction's last statement, sent with its COMMIT in ONE round trip (a simple query: if
   * the statement fails, PostgreSQL skips the COMMIT and the transaction is rolled back), answering
   * its rows. Nothing may run in the transaction after it. A named statement this connection has
   * not prepared yet is prepared and run on its own, and the COMMIT follows as usual.
   */
  commitWith(statement: TSqlStatement): Promise<unknown[]>;
};

function toQuery(template: readonly string[], parts: unknown[], name?: string): pg.QueryConfig {
  const { strings, values } = composed(template, parts);
  return { text: strings.reduce((text, part, i) => `${text}$${i}${part}`), values, ...(name ? { name } : {}) };
}

/** A value as the text PostgreSQL reads for it (what `pg` sends as a parameter); arrays as array literals. */
function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayText(value);
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  throw new TypeError(`no SQL literal for ${typeof value}`);
}

const ARRAY_SPECIAL = /[\\"]/;
const ARRAY_SPECIALS = /[\\"]/g;

/**
 * An array literal, every element quoted (backslashes and double quotes escaped), null as NULL.
 * Built in one pass, an element's escaping only when it has something to escape: a batch's
 * statement holds over a thousand elements.
 */
function arrayText(list: readonly unknown[]): string {
  let text = "{";
  for (let i = 0; i < list.length; i++) {
    const value: unknown = list[i];
    if (i > 0) text += ",";
    if (value === null || value === undefined) {
      text += "NULL";
      continue;
    }
    const element = valueText(value);
    text += ARRAY_SPECIAL.test(element) ? `"${element.replace(ARRAY_SPECIALS, "\\$&")}"` : `"${element}"`;
  }
  return `${text}}`;
}

/**
 * A value as an escaped SQL literal of no type yet: the statement's casts, or the parameter types of
 * the statement EXECUTE runs, decide its type, as they would for a parameter.
 */
export function sqlLiteral(value: unknown): string {
  return value === null || value === undefined ? "NULL" : quoteLiteral(valueText(value));
}

/**
 * `text` as a string constant: what `pg.escapeLiteral` writes (quotes doubled; with a backslash,
 * backslashes doubled too in an E'' constant, whatever standard_conforming_strings says), built by
 * two native regex passes instead of a character-by-character concatenation, which cost more
 * than the rest of the statement's preparation once a batch's values reach tens of kilobytes.
 */
function quoteLiteral(text: string): string {
  if (!/['\\]/.test(text)) return `'${text}'`;
  const quoted = `'${text.replace(/['\\]/g, "$&$&")}'`;
  return text.includes("\\") ? ` E${quoted}` : quoted;
}

function inlineText({ strings, values }: TSqlStatement): string {
  return strings.reduce((text, part, i) => `${text}${sqlLiteral(values[i - 1])}${part}`);
}

function executeText(name: string, values: unknown[]): string {
  return values.length ? `EXECUTE ${name}(${values.map(sqlLiteral).join(", ")})` : `EXECUTE ${name}`;
}

/** A statement as simple-protocol text: EXECUTE of its prepared plan if named, else inline. */
const textOf = (s: TSqlStatement) => (s.name ? executeText(s.name, s.values) : inlineText(s));

/** The names each connection has prepared (PostgreSQL keeps them for the session). */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();

function preparedNames(client: pg.ClientBase): Set<string> {
  let names = preparedOn.get(client);
  if (!names) preparedOn.set(client, (names = new Set()));
  return names;
}

/**
 * A transaction on `client` whose BEGIN (`begin`) is sent with its first statement, and whose
 * COMMIT may go with its last (commitWith).
 */
class LazyTx implements TSqlTx {
  begun = false;
  committed = false;
  private readonly held: Set<string>;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly begin: string,
  ) {
    this.held = preparedNames(client);
  }

  async rows<T>(strings: readonly string[], ...values: unknown[]): Promise<T[]> {
    return (await this.extended({ strings, values })) as T[];
  }

  prepared(name: string): Pick<TSqlTx, "rows"> {
    return {
      rows: async <T>(strings: readonly string[], ...values: unknown[]) =>
        (await this.extended({ name, strings, values })) as T[],
    };
  }

  async together(...statements: TSqlStatement[]): Promise<unknown[][]> {
    if (statements.every((s) => !s.name || this.held.has(s.name))) return this.simple(statements.map(textOf));
    const answers: unknown[][] = [];
    for (const s of statements)
      answers.push(s.name ? await this.extended(s) : ((await this.simple([textOf(s)]))[0] ?? []));
    return answers;
  }

  async commitWith(statement: TSqlStatement): Promise<unknown[]> {
    if (statement.name && !this.held.has(statement.name)) return this.extended(statement);
    const [rows = []] = await this.simple([textOf(statement), "COMMIT"]);
    this.committed = true;
    return rows;
  }

  /** One statement in the extended protocol (its values as parameters), after BEGIN if not begun. */
  private async extended(s: TSqlStatement): Promise<unknown[]> {
    this.notCommitted();
    if (!this.begun) {
      this.begun = true;
      await this.client.query(this.begin);
    }
    const { rows } = await this.client.query<Record<string, unknown>>(toQuery(s.strings, s.values, s.name));
    if (s.name) this.held.add(s.name);
    return rows;
  }

  /** Statements as one simple query, BEGIN first if not begun: one result each. */
  private async simple(texts: string[]): Promise<unknown[][]> {
    this.notCommitted();
    const withBegin = !this.begun;
    // Marked first: if a statement fails, the transaction it opened is rolled back.
    this.begun = true;
    type TResult = pg.QueryResult<Record<string, unknown>>;
    // A simple query of several statements answers one result per statement (pg's typing says one).
    const text = [...(withBegin ? [this.begin] : []), ...texts].join(";\n");
    const result = (await this.client.query(text)) as TResult | TResult[];
    const all = Array.isArray(result) ? result : [result];
    return all.slice(all.length - texts.length).map((r) => r.rows);
  }

  private notCommitted(): void {
    if (this.committed) throw new Error("the transaction is already committed: commitWith must be its last statement");
  }
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
// Simple-protocol text, so both statements (and the first statements of the transaction) go in one round trip.
const BEGIN_GENERIC = `${BEGIN}; SET LOCAL plan_cache_mode = force_generic_plan`;

/** Runs `fn` in one READ COMMITTED transaction: committed when it resolves, rolled back when it throws. */
export function inTransaction<T>(
  db: TDatabase,
  fn: (tx: TSqlTx) => Promise<T>,
  opts: TTransactionOptions = {},
): Promise<T> {
  return withSqlClient(db, async (client) => {
    const tx = new LazyTx(client, opts.genericPlans ? BEGIN_GENERIC : BEGIN);
    try {
      const result = await fn(tx);
      if (tx.begun && !tx.committed) await client.query("COMMIT");
      return result;
    } catch (err) {
      // Committed already: the work stands, and whatever failed after it must not be retried.
      if (tx.committed) throw new Error("the transaction committed, then failed", { cause: err });
      // A lost or unanswering connection is destroyed on release, and the server rolls back what
      // it had; a ROLLBACK sent there would only wait for the same silence.
      if (tx.begun && !isTransientDatabaseError(err)) await client.query("ROLLBACK").catch(() => undefined);
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
    rows: <T>(strings: readonly string[], ...values: unknown[]) =>
      withSqlClient(db, async (client) => (await client.query(toQuery(strings, values, name))).rows as T[]),
  };
}
