import fs from "node:fs/promises";
import path from "node:path";
import v8 from "node:v8";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { lockDataDir } from "./lock.ts";

/** A PGlite database reachable as an ordinary PostgreSQL server on a local port. */
export interface TEmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves PGlite over the PostgreSQL wire protocol on 127.0.0.1 (port 0), so the embedded mode
 * runs the same `pg` + `@prisma/adapter-pg` code as production. PGlite is ONE backend session:
 * extra connections would share its state (SET, temp tables, advisory locks, so the migration
 * lock would not exclude), hence only the caller's pool (of one connection) may connect.
 */
export async function startEmbeddedServer(dataDir: string): Promise<TEmbeddedServer> {
  const inMemory = dataDir.startsWith("memory://");
  let unlock = async () => {};
  if (!inMemory) {
    dataDir = path.resolve(dataDir);
    await fs.mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  let db: PGlite | undefined;
  try {
    // Peak RSS under load (REST, 4 clients, 50-event batches; docs/performance.md, "Embedded peak
    // memory"): V8's heap grew to 105–162 MB between major GCs (live: ~55 MB), so cap its
    // growth at 1.5× the live size. Process-wide, but this module loads only without DATABASE_URL
    // (embedded server, admin CLI on a data folder, tests); V8 reads it at every GC, so setting it
    // after start-up works. Measured (30 s row): heapTotal 112–162 → 77–78 MB at the peak, peak RSS
    // 312–376 → 263–285 MB.
    v8.setFlagsFromString("--heap-growing-percent=50");
    // PGlite's WebAssembly memory only grows, and the default 128 MB of shared buffers fill it under
    // load; the host's page cache holds the files anyway. Measured: idle RSS 330 → 207 MB, peak 426 → 291 MB
    // at 16 MB. Not lower: at 8 MB the touched WebAssembly memory is 8 MB smaller, but pages then come
    // and go through PGlite's file system calls (fs.readSync/writeSync) and a request costs ~30 % more
    // CPU (embedded row: 2,583 → 1,962 events/s). The rest of the peak is malloc's per-thread arenas,
    // capped by MALLOC_ARENA_MAX in `npm start` (docs/performance.md, "Embedded peak memory").
    db = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] });
    // Two, not one: pg's pool drops a client whose query failed and connects again at once,
    // before the server has noticed the old socket close. The pool (max 1) still holds only one.
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 2 });
    await server.start();
    const opened = db;
    return {
      url: `postgresql://postgres@${server.getServerConn()}/postgres`,
      async stop() {
        try {
          await server.stop();
          await opened.close();
        } finally {
          await unlock();
        }
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    await unlock();
    throw error;
  }
}
