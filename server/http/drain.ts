import type { Server, ServerResponse } from "node:http";

/**
 * Graceful stop for an HTTP server with keep-alive clients. `server.close()` alone only stops
 * new connections: a client that keeps its connection busy could go on sending requests on it
 * until the shutdown limit cuts everything. Once draining, every response (the in-flight ones
 * and any request already on its way) says `Connection: close` and its socket closes after it;
 * idle connections are closed at once.
 */
export function drainOnShutdown(server: Server) {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
    // Headers already out: the socket turns idle after this response, then it can go.
    else res.once("finish", () => setImmediate(() => server.closeIdleConnections()));
  };
  server.prependListener("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
    if (draining) closeAfter(res);
  });
  return {
    /** Resolves once every connection is closed (in-flight responses sent first). */
    drain(): Promise<void> {
      draining = true;
      for (const res of inFlight) closeAfter(res);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
  };
}
