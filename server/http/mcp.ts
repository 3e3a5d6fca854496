import { Router, type Request, type Response } from "express";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { authenticateApiKey } from "../api-keys/authenticate-key.ts";
import { DomainError } from "../errors/domain-error.ts";
import { RateLimitedError, setRateLimitHeaders } from "../infra/rate-limit.ts";
import { jsonBody } from "./body.ts";
import { clientIp } from "./client-ip.ts";
import { sendError } from "./errors.ts";
import { noStore } from "./security-headers.ts";
import type { TDeps } from "../deps.ts";
import { createMcpServer } from "../mcp/mcp-server.ts";

/**
 * `/mcp`: the MCP Streamable HTTP transport, stateless (a server per request, JSON responses),
 * authenticated by `Authorization: Bearer ff_…` only. It is mounted apart from `/api`: no session,
 * no cookie and no CSRF check applies, and a session cookie opens nothing here.
 */
export function mcpRoutes(deps: TDeps): Router {
  const routes = Router();
  routes.post("/", noStore, jsonBody(deps.config.limits.bodyBytes, deps), (req, res, next) => {
    handle(deps, req, res).catch(next);
  });
  // Stateless: no server-initiated stream to GET and no session to DELETE.
  routes.all("/", (req, res) => {
    res.setHeader("Allow", "POST");
    sendError(req, res, new DomainError("METHOD_NOT_ALLOWED", `${req.method} is not supported on /mcp; POST JSON-RPC`));
  });
  return routes;
}

async function handle(deps: TDeps, req: Request, res: Response): Promise<void> {
  const ip = clientIp(req);
  const key = await authenticateApiKey(deps.db, deps.limiters, {
    authorization: req.headers.authorization,
    ip,
  }).catch((err: unknown) => {
    if (err instanceof RateLimitedError) setRateLimitHeaders((n, v) => res.setHeader(n, v), err.rateLimit);
    if (err instanceof DomainError && err.code !== "RATE_LIMITED")
      res.setHeader("WWW-Authenticate", 'Bearer realm="mcp"');
    throw err;
  });
  const requestId = res.locals.requestId as string;
  const server = createMcpServer({
    db: deps.db,
    limiters: deps.limiters,
    metrics: deps.metrics,
    logger: deps.logger.child({ requestId }),
    requestId,
    key,
    onRateLimit: (state) => setRateLimitHeaders((n, v) => res.setHeader(n, v), state),
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
