import { z } from "zod";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import { RateLimitedError } from "../infra/rate-limit.ts";
import { errorEnvelope } from "../errors/error-envelope.ts";
import { callTool, TOOLS, type TToolContext } from "./tools.ts";

export const MCP_SERVER_INFO = { name: "funnel-server-events", version: "1.0.0" };

/** A tool's input as JSON Schema, generated from the same zod schema the call is checked with. */
function inputJsonSchema(schema: z.ZodType) {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { type: "object" } & Record<
    string,
    unknown
  >;
}

/**
 * An MCP server for one authenticated key. The low-level `Server` (not `McpServer`) because the
 * tools validate their own input: McpServer would answer a bad input with its own message, not
 * the reasons and field paths every other door answers with.
 */
export function createMcpServer(ctx: TToolContext & { logger: TLogger; requestId: string }): Server {
  const server = new Server(MCP_SERVER_INFO, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: inputJsonSchema(t.input),
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    try {
      const result = await callTool(ctx, req.params.name, req.params.arguments);
      return { content: [{ type: "text", text: JSON.stringify(result) }], structuredContent: result };
    } catch (err) {
      return toolError(ctx, err);
    }
  });
  return server;
}

/** A refusal as an MCP tool error (`isError: true`) carrying the REST error body's `data`. */
function toolError(
  ctx: { logger: TLogger; requestId: string; onRateLimit: TToolContext["onRateLimit"] },
  err: unknown,
) {
  const cause = isTransientDatabaseError(err) ? databaseUnavailable(err) : err;
  if (!(cause instanceof DomainError)) ctx.logger.error("MCP tool failed", { err, requestId: ctx.requestId });
  if (cause instanceof RateLimitedError) ctx.onRateLimit(cause.rateLimit);
  const { message, data } = errorEnvelope(cause, { requestId: ctx.requestId });
  const retryAfterSeconds = cause instanceof DomainError ? cause.retryAfterSeconds : undefined;
  const body = { message, ...data, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
  return { isError: true, content: [{ type: "text" as const, text: JSON.stringify(body) }], structuredContent: body };
}
