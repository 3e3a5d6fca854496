import fs from "node:fs/promises";
import path from "node:path";
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
    // PGlite's WebAssembly memory only grows, and the default 128 MB of shared buffers fill it under
    // load; the host's page cache holds the files anyway. Measured: idle RSS 330 → 207 MB, peak 426 → 291 MB.
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
