import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../../generated/prisma/client.ts";
import type { TEmbeddedServer } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";
import { isTransientDatabaseError } from "./transient-errors.ts";

export { EmbeddedDatabaseLockedError } from "./lock.ts";

/** The one handle the app and the tests hold, whatever runs underneath. */
export interface TDatabase {
  prisma: PrismaClient;
  mode: "postgres" | "embedded";
  /** A postgres:// URL; in embedded mode only our own pool may use it (use withSqlClient). */
  url: string;
  /** `SELECT 1`; rejects when the database is unreachable (for /readyz). */
  ping(): Promise<void>;
  /** Disconnects Prisma, ends the pool, and in embedded mode stops PGlite and releases its folder. Idempotent. */
  close(): Promise<void>;
}

export interface TOpenDatabaseOptions {
  /** Set: PostgreSQL. Absent: embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** Embedded data folder (parents are created), or "memory://" for a throw-away database. */
  dataDir?: string;
  /** PostgreSQL pool size (default 10); embedded is always 1, PGlite being one session. */
  poolMax?: number;
  /**
   * PostgreSQL only: a statement without an answer after this long fails as DATABASE_UNAVAILABLE
   * and its connection is destroyed (default: none). A server that froze, or a network that
   * drops packets without closing anything, would otherwise hold a request until TCP gives up.
   */
  queryTimeoutMs?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Called with the text of every statement sent through the pool (tests count statements). */
  onQuery?: (sql: string) => void;
  log?: (line: string) => void;
}

const pools = new WeakMap<TDatabase, pg.Pool>();

/**
 * Opens PostgreSQL or embedded PGlite behind the same `pg` pool + `@prisma/adapter-pg` stack,
 * so both modes run one code path; applies migrations unless `migrate: false`.
 */
export async function openDatabase(opts: TOpenDatabaseOptions): Promise<TDatabase> {
  const log = opts.log ?? (() => {});
  let embedded: TEmbeddedServer | undefined;
  let url = opts.databaseUrl;
  if (!url) {
    if (!opts.dataDir) throw new Error("openDatabase: give either databaseUrl (PostgreSQL) or dataDir (embedded)");
    // Loaded only in embedded mode: PGlite's WebAssembly build costs memory a PostgreSQL deployment never uses.
    const { startEmbeddedServer } = await import("./embedded.ts");
    embedded = await startEmbeddedServer(opts.dataDir);
    url = embedded.url;
  }
  const pool = new pg.Pool(poolConfig(url, embedded !== undefined, opts));
  watchConnectionErrors(pool, log);
  if (embedded) forgetPreparedOnReconnect(pool);
  if (opts.onQuery) reportQueries(pool, opts.onQuery);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closing: Promise<void> | undefined;
  const db: TDatabase = {
    prisma,
    mode: embedded ? "embedded" : "postgres",
    url,
    async ping() {
      await pool.query("SELECT 1");
    },
    close() {
      closing ??= (async () => {
        try {
          await prisma.$disconnect();
          await pool.end();
        } finally {
          await embedded?.stop();
        }
      })();
      return closing;
    },
  };
  pools.set(db, pool);
  try {
    if (opts.migrate ?? true) await withSqlClient(db, (client) => applyMigrations(client, { log }));
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

function poolConfig(url: string, embedded: boolean, opts: TOpenDatabaseOptions): pg.PoolConfig {
  // Embedded: keep the single connection for good, so it is never closed and reopened.
  if (embedded) return { connectionString: url, max: 1, idleTimeoutMillis: 0 };
  return {
    connectionString: url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
  };
}

/**
 * Runs `fn` on one pooled connection (one session, e.g. for advisory locks or raw `pg`).
 * In embedded mode this is the only way in: the pool holds PGlite's single connection.
 */
export async function withSqlClient<T>(db: TDatabase, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const pool = pools.get(db);
  if (!pool) throw new Error("withSqlClient: not a database opened by openDatabase");
  const client = await pool.connect();
  let broken = false;
  try {
    return await fn(client);
  } catch (err) {
    broken = isTransientDatabaseError(err);
    throw err;
  } finally {
    // A connection that died is destroyed, never handed to the next caller; the pool opens a new one.
    client.release(broken);
  }
}

/**
 * A connection can die at any time (the server restarts, an admin terminates the backend, the
 * network drops). `pg` then emits 'error' on the pool when the connection was idle in it, or on
 * the client itself while it is checked out — an unhandled 'error' event would kill the process.
 * The query in flight, if any, fails on its own; the request holding it answers 503.
 */
function watchConnectionErrors(pool: pg.Pool, log: (line: string) => void): void {
  pool.on("error", (error) => log(`database: idle connection failed: ${error.message}`));
  pool.on("connect", (client) => {
    client.on("error", (error) => log(`database: connection failed while in use: ${error.message}`));
  });
}

/**
 * PGlite is one backend session whatever the connection: when pg's pool replaces its connection
 * (it drops a client whose query failed, e.g. after a failed Prisma statement), the session still
 * holds the statements the old connection prepared, while this process thinks the new one has
 * none, and the next PREPARE of the same name fails ("already exists") — for good. A new
 * connection starts by forgetting them, so both sides agree it has none. (PostgreSQL gives each
 * connection its own session: nothing to do there.)
 */
function forgetPreparedOnReconnect(pool: pg.Pool): void {
  pool.on("connect", (client) => {
    // Queued before any query of the caller's: the pool hands the client out after this event.
    client.query("DEALLOCATE ALL").catch(() => undefined);
  });
}

function reportQueries(pool: pg.Pool, onQuery: (sql: string) => void): void {
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const first = args[0] as string | { text?: string } | undefined;
      const text = typeof first === "string" ? first : first?.text;
      if (text !== undefined) onQuery(text);
      return query(...args);
    }) as typeof client.query;
  });
}
