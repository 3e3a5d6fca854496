import http from "node:http";
import type { AddressInfo } from "node:net";

/** An IPv4 peer as node reports it on a dual-stack socket (`::ffff:127.0.0.3`), without the prefix. */
const plainAddress = (address: string | undefined) => (address ?? "").replace(/^::ffff:/, "");

/**
 * A real HTTP reverse proxy hop in front of the app, as nginx with `proxy_add_x_forwarded_for`
 * is: it forwards each request from its own address (`localAddress`, a loopback address of its
 * own so the app can tell it from the clients) and appends the peer it saw to X-Forwarded-For,
 * keeping whatever the client sent before it.
 */
export async function startForwardingProxy(target: string, localAddress: string) {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forwardedFor = [req.headers["x-forwarded-for"], plainAddress(req.socket.remoteAddress)]
      .filter(Boolean)
      .join(", ");
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        localAddress,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, "x-forwarded-for": forwardedFor },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type TViaAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/**
 * One request from the client address `localAddress` (fetch cannot choose its source address),
 * so tests can speak as several clients behind the same proxy.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<TViaAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? "GET", headers: init.headers, localAddress, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}
