import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request. */
export type TProxyAction =
  | { kind: "forward"; delayMs?: number }
  /** Answer without forwarding: the failure a load balancer or a restarting upstream gives. */
  | { kind: "answer"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Forward (the app does the work), then drop the connection before answering: a lost response. */
  | { kind: "forward-then-drop" };

/**
 * An HTTP proxy in front of the test app that a test scripts per request (`decide` sees every
 * request in order, with its index), to provoke the transient
 * failures a real deployment has: 5xx from the edge, lost responses, slow answers.
 */
export async function startHttpFaultProxy(
  target: string,
  decide: (index: number, req: http.IncomingMessage) => TProxyAction,
) {
  let count = 0;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const action = decide(count++, req);
    if (action.kind === "answer") {
      res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
      return void res.end(JSON.stringify(action.body ?? { message: `proxy says ${action.status}` }));
    }
    if (action.kind === "forward" && action.delayMs)
      await new Promise((resolve) => setTimeout(resolve, action.delayMs));
    let upstream: Response;
    try {
      upstream = await forward(target, req, Buffer.concat(chunks));
    } catch {
      return void res.socket?.destroy();
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    if (action.kind === "forward-then-drop") return void res.socket?.destroy();
    const headers: Record<string, string | string[]> = {};
    upstream.headers.forEach((value, name) => {
      if (!["content-encoding", "content-length", "transfer-encoding", "connection", "set-cookie"].includes(name))
        headers[name] = value;
    });
    const cookies = upstream.headers.getSetCookie();
    if (cookies.length) headers["set-cookie"] = cookies;
    res.writeHead(upstream.status, headers);
    res.end(body);
  };
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Requests seen so far. */
    get requests(): number {
      return count;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function forward(target: string, req: http.IncomingMessage, body: Buffer): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ["host", "connection", "content-length", "transfer-encoding"].includes(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return fetch(`${target}${req.url}`, {
    method: req.method,
    headers,
    body: body.length ? body : undefined,
    redirect: "manual",
  });
}
