import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { TConfig } from "../config.ts";
import type { TDatabase } from "../db/database.ts";
import type { TLogger } from "../infra/logger.ts";
import {
  adminSocketPath,
  MAX_REQUEST_BYTES,
  REQUEST_TIMEOUT_MS,
  ZAdminRequest,
  type TAdminReply,
  type TAdminRequest,
} from "./admin-socket-client.ts";
import { runAdmin } from "./run-admin.ts";

export type TAdminSocket = { file: string; close(): Promise<void> };

const MIGRATE_REFUSED =
  'admin: "migrate" is not taken over the admin socket: the running server applied the migrations when it ' +
  "started. To run them yourself, stop the server first.\n";

/**
 * The embedded server's admin socket (`DATA_DIR/admin.sock`, mode 0600): each connection sends one
 * request line and gets the admin command run here, on the database this process holds, its
 * output streamed back (admin-socket-client.ts). Null, with a warning, when it cannot listen:
 * the server runs without it and the CLI says the socket did not answer.
 */
export async function serveAdminSocket(opts: {
  dataDir: string;
  db: TDatabase;
  secrets: TConfig["secrets"];
  logger: TLogger;
}): Promise<TAdminSocket | null> {
  const file = path.resolve(adminSocketPath(opts.dataDir));
  if (await answers(file)) {
    opts.logger.warn("admin socket: another process answers on it; not serving one", { file });
    return null;
  }
  // Left by a server that was killed: nobody answers, so it is only a name in the way.
  await fs.rm(file, { force: true });

  const running = new Set<Promise<void>>();
  const waiting = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    waiting.add(conn);
    readRequest(conn, (request) => {
      waiting.delete(conn);
      const run = serve(conn, request, opts).finally(() => running.delete(run));
      running.add(run);
    });
    conn.once("close", () => waiting.delete(conn));
  });
  try {
    await listenPrivately(server, file);
  } catch (error) {
    opts.logger.warn("admin socket: cannot listen; the admin CLI cannot run while the server does", {
      file,
      error: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
  opts.logger.info("admin socket listening", { file });
  return {
    file,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const conn of waiting) conn.destroy();
      // Commands already started finish on the database before it closes.
      await Promise.allSettled([...running]);
      await closed;
      await fs.rm(file, { force: true });
    },
  };
}

/** Whether a live server answers on `file` (a refused or missing socket is stale). */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(file);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** The socket is created under a umask that leaves it 0600, so no other user can connect even for a moment. */
async function listenPrivately(server: net.Server, file: string): Promise<void> {
  const listening = new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const umask = process.umask(0o177);
  try {
    server.listen(file);
  } finally {
    process.umask(umask);
  }
  await listening;
  await fs.chmod(file, 0o600);
}

/** Reads the one request line (bounded in size and time); refuses anything else with exit 2. */
function readRequest(conn: net.Socket, onRequest: (request: TAdminRequest) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const refuse = (message: string) => {
    reply(conn, { err: `admin socket: ${message}\n` });
    reply(conn, { exit: 2 });
    conn.end();
  };
  conn.on("error", () => undefined); // a client that went away: nothing to tell it
  conn.setTimeout(REQUEST_TIMEOUT_MS, () => refuse(`no request line within ${REQUEST_TIMEOUT_MS} ms`));
  const onData = (chunk: Buffer) => {
    const newline = chunk.indexOf(0x0a);
    size += newline >= 0 ? newline : chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      conn.off("data", onData);
      return refuse(`the request line is larger than ${MAX_REQUEST_BYTES} bytes`);
    }
    if (newline < 0) return void chunks.push(chunk);
    conn.off("data", onData);
    conn.setTimeout(0);
    chunks.push(chunk.subarray(0, newline));
    let parsed: ReturnType<typeof ZAdminRequest.safeParse>;
    try {
      parsed = ZAdminRequest.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    } catch {
      return refuse('the request line is not JSON (expected {"argv": [...], "stdin": "..."})');
    }
    if (!parsed.success) return refuse('expected {"argv": ["command", ...], "stdin"?: "..."}');
    onRequest(parsed.data);
  };
  conn.on("data", onData);
}

async function serve(
  conn: net.Socket,
  request: TAdminRequest,
  opts: { db: TDatabase; secrets: TConfig["secrets"]; logger: TLogger },
): Promise<void> {
  let exit = 1;
  try {
    if (request.argv[0] === "migrate") {
      reply(conn, { err: MIGRATE_REFUSED });
    } else {
      exit = await runAdmin(request.argv, {
        db: opts.db,
        secrets: opts.secrets,
        stdout: { write: (out: string) => reply(conn, { out }) },
        stderr: { write: (err: string) => reply(conn, { err }) },
        readStdin: () => Promise.resolve(request.stdin ?? ""),
      });
    }
    // The command, never its arguments: they may hold a password.
    opts.logger.info("admin command over the socket", { command: request.argv.slice(0, 2).join(" "), exit });
  } catch (error) {
    reply(conn, { err: `admin: ${error instanceof Error ? error.message : String(error)}\n` });
  }
  reply(conn, { exit });
  conn.end();
}

function reply(conn: net.Socket, message: TAdminReply): void {
  if (conn.writable) conn.write(`${JSON.stringify(message)}\n`);
}
