import type { TDatabase } from "../../db/database.ts";
import { inTransaction, type TSqlTx, type TTransactionOptions } from "../../db/sql.ts";

/**
 * A transaction found that what it read before its locks were held no longer holds (a profile it
 * needs was merged away meanwhile): nothing of it is kept, and it is worth running again.
 */
export class TransactionConflictError extends Error {
  override name = "TransactionConflictError";
}

/** Deadlock, serialization failure, unique violation (a lost race): SQLSTATEs worth another go. */
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001", "23505"]);
export const MAX_ATTEMPTS = 5;

/** Deadlocks, serialization failures and lost races are worth another go; nothing else is. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TransactionConflictError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE_SQLSTATES.has(code);
}

/**
 * Runs `fn` in one READ COMMITTED transaction (all or nothing), retrying a bounded number of
 * times, with jittered backoff, when it lost a race; the last error is rethrown.
 */
export async function withTransactionRetry<T>(
  db: TDatabase,
  fn: (tx: TSqlTx) => Promise<T>,
  opts: TTransactionOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, fn, opts);
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
}
