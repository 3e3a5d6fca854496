import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { findKeyBySecret } from "../api-keys/api-keys.ts";
import { loadConfig } from "../config.ts";
import { openDatabase } from "../db/database.ts";
import { withLocalSecrets } from "../infra/local-secrets.ts";
import { createLogger } from "../infra/logger.ts";
import { Metrics } from "../infra/metrics.ts";
import { createRateLimiters } from "../infra/rate-limiters.ts";
import { closeRedis, connectRedis } from "../infra/redis.ts";
import { createMcpServer } from "../mcp/mcp-server.ts";

/**
 * `npm run mcp -- --key ff_…` (or FSE_API_KEY): the same tools over stdio for a local agent,
 * against the configured database (DATABASE_URL, or the embedded one when no server holds it).
 * stdout carries the protocol, so every log line goes to stderr.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { key: { type: "string" } } });
  const config = await withLocalSecrets(loadConfig());
  const secret = values.key ?? config.mcpApiKey;
  if (!secret) throw new Error("give the API key: npm run mcp -- --key ff_… (or set FSE_API_KEY)");
  const logger = createLogger(config.logLevel, {}, { write: (line: string) => void process.stderr.write(line) });
  const db = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.database.dataDir,
    poolMax: 2,
    migrate: false,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const { key, revoked } = await findKeyBySecret(db, secret);
  if (!key) throw new Error(revoked ? "this API key has been revoked" : "unknown or malformed API key");
  // The key's rate limit is shared with the HTTP server through Redis when it is configured.
  const redis = config.redis ? await connectRedis(config.redis.url, logger) : undefined;
  const server = createMcpServer({
    db,
    limiters: createRateLimiters(config, redis),
    metrics: new Metrics(),
    logger,
    requestId: "stdio",
    key,
    onRateLimit: () => undefined,
  });
  await server.connect(new StdioServerTransport());
  exitWhenClientLeaves(async () => {
    await server.close();
    if (redis) await closeRedis(redis);
    await db.close();
  });
}

/**
 * A stdio server lives as long as its client: it stops when its stdin ends (the client closed the
 * pipe or went away), on SIGTERM/SIGINT, and when its parent dies (`npm run mcp` execs node, so
 * the parent is npm or the client itself; a new ppid means it was left behind). Nothing outlives it.
 */
function exitWhenClientLeaves(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    // Whatever close does, the process ends: a hung pool must not keep an orphan alive.
    setTimeout(() => process.exit(0), 2000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.stdin.once("end", stop).once("close", stop);
  process.once("SIGTERM", stop).once("SIGINT", stop).once("SIGHUP", stop);
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(), 1000).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`mcp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
