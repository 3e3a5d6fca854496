import { Store, type SessionData } from "express-session";
import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";

type TCallback = (err?: unknown) => void;

/** How often at most expired sessions are swept (on a write; the sweep is one DELETE on an index). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * express-session's store in the `sessions` table, for a deployment without Redis (the embedded
 * default): logins survive a restart. One named statement per call; a session read is a primary
 * key lookup that also checks the expiry, so an expired session is never served even before
 * it is swept.
 */
export class DatabaseSessionStore extends Store {
  private lastSweep = 0;

  constructor(
    private readonly db: TDatabase,
    private readonly ttlSeconds: number,
  ) {
    super();
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    preparedQuery(this.db, "session_get").rows<{
      sess: SessionData;
    }>`SELECT sess FROM sessions WHERE sid = ${sid} AND expires_at > now()`.then(
      ([row]) => callback(null, row?.sess ?? null),
      (err: unknown) => callback(err),
    );
  }

  override set(sid: string, session: SessionData, callback?: TCallback): void {
    this.sweepNowAndThen();
    preparedQuery(this.db, "session_set").rows`INSERT INTO sessions (sid, sess, expires_at)
        VALUES (${sid}, ${JSON.stringify(session)}::jsonb, ${this.expiryOf(session)})
        ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expires_at = EXCLUDED.expires_at`.then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override touch(sid: string, session: SessionData, callback?: TCallback): void {
    preparedQuery(this.db, "session_touch")
      .rows`UPDATE sessions SET expires_at = ${this.expiryOf(session)} WHERE sid = ${sid}`.then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override destroy(sid: string, callback?: TCallback): void {
    preparedQuery(this.db, "session_destroy").rows`DELETE FROM sessions WHERE sid = ${sid}`.then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  /** When the cookie says the session ends; the configured lifetime for a cookie without one. */
  private expiryOf(session: SessionData): Date {
    const expires = session.cookie?.expires;
    return expires ? new Date(expires) : new Date(Date.now() + this.ttlSeconds * 1000);
  }

  /** Deletes expired sessions at most every SWEEP_INTERVAL_MS; a failed sweep is tried again later. */
  private sweepNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    preparedQuery(this.db, "session_sweep").rows`DELETE FROM sessions WHERE expires_at <= now()`.catch(() => {
      this.lastSweep = 0;
    });
  }
}
