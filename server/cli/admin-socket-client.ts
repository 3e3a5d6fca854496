import net from "node:net";
import path from "node:path";
import { z } from "zod";

/**
 * The embedded server's admin socket: PGlite lets one process open DATA_DIR, so the admin CLI
 * hands its command to the server that holds it. Access is the socket file's mode (0600): the
 * user who owns DATA_DIR, who can read the database files anyway.
 */
export const ADMIN_SOCKET_FILE = "admin.sock";

/** A request is one line; its only large part is a password or secret read from stdin. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** How long a connection may take to send its request line. */
export const REQUEST_TIMEOUT_MS = 10_000;

export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, ADMIN_SOCKET_FILE);
}

/** The one line a client sends: the admin arguments, and what it read from its stdin for `--password -`. */
export const ZAdminRequest = z.strictObject({
  argv: z.array(z.string()).min(1).max(100),
  stdin: z.string().optional(),
});
export type TAdminRequest = z.infer<typeof ZAdminRequest>;

/** What the server streams back, one JSON object a line; `exit` comes last. */
export type TAdminReply = { out: string } | { err: string } | { exit: number };

type TOut = { write(chunk: string): unknown };

/** The socket could not be reached (no file, nobody listening): the CLI explains instead of forwarding. */
export class AdminSocketUnansweredError extends Error {
  override name = "AdminSocketUnansweredError";
}

/**
 * Sends one command to the server's admin socket, relays its output, and resolves with its exit
 * code; rejects with AdminSocketUnansweredError when no server answers there.
 */
export function forwardToAdminSocket(
  file: string,
  request: TAdminRequest,
  io: { stdout: TOut; stderr: TOut },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(path.resolve(file));
    let connected = false;
    let exit: number | undefined;
    let pending = "";
    let broke = "";
    conn.setEncoding("utf8");
    conn.once("connect", () => {
      connected = true;
      conn.write(`${JSON.stringify(request)}\n`);
    });
    conn.on("data", (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        let reply: TAdminReply;
        try {
          reply = JSON.parse(pending.slice(0, newline)) as TAdminReply;
        } catch {
          broke = ": it answered something that is not a JSON line";
          return void conn.destroy();
        }
        pending = pending.slice(newline + 1);
        if ("out" in reply) io.stdout.write(reply.out);
        else if ("err" in reply) io.stderr.write(reply.err);
        else exit = reply.exit;
      }
    });
    conn.once("error", (error: NodeJS.ErrnoException) => {
      if (connected) broke = `: ${error.message}`;
      else reject(new AdminSocketUnansweredError(error.code === "ENOENT" ? "it does not exist" : error.message));
    });
    // "close" follows every "error" too: the one place that settles a connection that was made.
    conn.once("close", () => {
      if (!connected) return;
      if (exit === undefined)
        io.stderr.write(`admin: the server's admin socket closed before the command finished${broke}\n`);
      resolve(exit ?? 1);
    });
  });
}
