import type { Server, ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";

/** How long an idle kept-alive connection stays open once draining, for a request already on its way. */
export const IDLE_GRACE_MS = 1000;

/**
 * Graceful stop for an HTTP server with keep-alive clients. Once draining: no new connection is
 * accepted; every response (the in-flight ones and any request arriving on a kept-alive
 * connection) says `Connection: close`, and its connection closes after it; a connection idle
 * at that moment, or turning idle, is closed after `graceMs` without a request.
 *
 * Node's `server.close()` would close idle connections at once, which races a client that has
 * just sent a request on one (it gets the connection closed without an answer, or a reset): its
 * pool had no way to know. The grace lets such a request in and answers it.
 */
export function drainOnShutdown(server: Server, graceMs = IDLE_GRACE_MS) {
  let draining = false;
  const busy = new Map<Socket, number>();
  const graceTimers = new Map<Socket, NodeJS.Timeout>();
  const inFlight = new Set<ServerResponse>();

  const closeWhenIdle = (socket: Socket) => {
    if (graceTimers.has(socket) || socket.destroyed) return;
    const timer = setTimeout(() => {
      graceTimers.delete(socket);
      if (!busy.get(socket)) socket.destroy();
    }, graceMs);
    graceTimers.set(socket, timer);
  };
  // Headers already out: its client may send another request after it, let in by the grace.
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  };

  server.on("connection", (socket: Socket) => {
    busy.set(socket, 0);
    socket.once("close", () => {
      busy.delete(socket);
      clearTimeout(graceTimers.get(socket));
      graceTimers.delete(socket);
    });
  });
  server.prependListener("request", (req, res: ServerResponse) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    inFlight.add(res);
    res.once("close", () => {
      inFlight.delete(res);
      const left = (busy.get(socket) ?? 1) - 1;
      busy.set(socket, left);
      if (draining && left === 0) closeWhenIdle(socket);
    });
    if (draining) {
      clearTimeout(graceTimers.get(socket));
      graceTimers.delete(socket);
      closeAfter(res);
    }
  });

  return {
    /** Resolves once every connection is closed (in-flight responses sent first). */
    drain(): Promise<void> {
      draining = true;
      for (const res of inFlight) closeAfter(res);
      // net.Server's close: stop listening, without http.Server's closing of the idle connections.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      for (const [socket, count] of busy) if (count === 0) closeWhenIdle(socket);
      return closed;
    },
  };
}
