import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { IngestConflictError } from "./ingest.repo.ts";

const RETRYABLE_SQLSTATES = new Set(["40P01", "40001", "23505"]);
const RETRYABLE_PRISMA_CODES = new Set(["P2034", "P2002"]);
export const MAX_ATTEMPTS = 5;

/** Deadlocks, serialization failures and lost races are worth another go; nothing else is. */
export function isRetryable(err: unknown, depth = 0): boolean {
  if (err instanceof IngestConflictError) return true;
  if (!err || typeof err !== "object" || depth > 5) return false;
  const e = err as Record<string, unknown>;
  for (const key of ["code", "originalCode"]) {
    const v = e[key];
    if (typeof v === "string" && (RETRYABLE_SQLSTATES.has(v) || RETRYABLE_PRISMA_CODES.has(v))) return true;
  }
  if (e.kind === "TransactionWriteConflict" || e.kind === "UniqueConstraintViolation") return true;
  if (typeof e.message === "string" && /deadlock detected|could not serialize access/i.test(e.message)) return true;
  return ["cause", "meta", "driverAdapterError"].some((k) => isRetryable(e[k], depth + 1));
}

/**
 * Runs `fn` in one READ COMMITTED transaction (all or nothing), retrying a bounded number of
 * times, with jittered backoff, when it lost a race; the last error is rethrown.
 */
export async function withTransactionRetry<T>(prisma: PrismaClient, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(fn, { isolationLevel: "ReadCommitted", maxWait: 10_000, timeout: 30_000 });
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
}
