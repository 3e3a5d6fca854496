import { DomainError } from "../errors/domain-error.ts";

/** How long a client should wait before retrying when the database is briefly unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * SQLSTATEs of a database that is going away or not there yet: admin shutdown (57P01),
 * crash shutdown (57P02), cannot connect now / starting up (57P03), too many connections (53300),
 * and the connection exception class (08xxx).
 */
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"]);
/** Socket failures on the way to the database. */
const TRANSIENT_SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]);
/** Prisma: can't reach, timed out, closed connection, pool timeout, too many connections. */
const TRANSIENT_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);
/** Prisma's driver-adapter error kinds for the same failures. */
const TRANSIENT_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);
/** What `pg` says (without a code) about a connection that died or never came. */
const TRANSIENT_PG_MESSAGES = new RegExp(
  [
    "Connection terminated",
    "is not queryable",
    "timeout exceeded when trying to connect",
    "terminating connection due to administrator command",
    // Our own deadline (DATABASE_QUERY_TIMEOUT_MS): the server did not answer in time.
    "Query read timeout",
  ].join("|"),
);

type TErrorLike = {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
};

function isTransientOne(err: TErrorLike): boolean {
  const code = typeof err.code === "string" ? err.code : undefined;
  const codes = [TRANSIENT_SQLSTATES, TRANSIENT_SOCKET_CODES, TRANSIENT_PRISMA_CODES];
  if (code && codes.some((set) => set.has(code))) return true;
  if (typeof err.kind === "string" && TRANSIENT_ADAPTER_KINDS.has(err.kind)) return true;
  return typeof err.message === "string" && TRANSIENT_PG_MESSAGES.test(err.message);
}

/**
 * True when `err` (or anything it wraps: `cause`, Prisma's driver-adapter error) says the
 * database connection was lost or could not be had right now — worth a retry later, not a bug.
 * A DomainError already says what went wrong (e.g. Redis unavailable, whose cause may be a socket
 * error too), so it is never reclassified.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || next instanceof DomainError || seen.has(next)) continue;
    seen.add(next);
    const e = next as TErrorLike;
    if (isTransientOne(e)) return true;
    queue.push(e.cause, e.meta?.driverAdapterError);
  }
  return false;
}

/** The 503 a request gets when the database is briefly unavailable: retry after a moment. */
export function databaseUnavailable(cause: unknown): DomainError {
  const message = "The database is temporarily unavailable; retry shortly";
  const err = new DomainError("DATABASE_UNAVAILABLE", message, [], DATABASE_RETRY_AFTER_SECONDS);
  err.cause = cause;
  return err;
}
