import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig } from "./config.ts";
import { EmbeddedDatabaseLockedError } from "./db/database.ts";
import { createApp } from "./http/app.ts";
import { drainOnShutdown } from "./http/drain.ts";
import { createLogger } from "./infra/logger.ts";
import { createRuntime } from "./runtime.ts";
import { seedDemoIfEmpty, type TDemoLogin } from "./seed/demo.ts";

/** Starts the service: config, database (migrated), Redis, HTTP; stops gracefully on SIGTERM/SIGINT. */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await createRuntime(config, { logger });
  const demo = config.seedDemo ? await seedDemoIfEmpty(runtime.deps.db.prisma) : null;
  let shuttingDown = false;
  const app = createApp({ ...runtime, isShuttingDown: () => shuttingDown });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const { port } = server.address() as AddressInfo;
  const base = config.publicUrl ?? `http://localhost:${port}`;
  logger.info("listening", { port, database: runtime.deps.db.mode, sessions: runtime.redis ? "redis" : "memory" });
  if (!config.session.secretConfigured && !config.production) logger.warn("SESSION_SECRET not set: using a random one, sessions end with this process");
  printBanner(base, demo);

  const drainer = drainOnShutdown(server);
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down", { signal });
    const force = setTimeout(() => {
      logger.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await drainer.drain();
    await runtime.close();
    clearTimeout(force);
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

function printBanner(base: string, demo: TDemoLogin | null) {
  const lines = [``, `  Server-side events API on ${base}`, `  Docs:     ${base}/api/docs   (OpenAPI: ${base}/api/openapi.json)`];
  if (demo) {
    lines.push(
      `  Demo login (created now, shown once):`,
      `    email     ${demo.email}`,
      `    password  ${demo.password}`,
      `    workspace ${demo.workspaceId}`,
      `    site      ${demo.siteId}`,
      `  Try it:`,
      `    curl -c cookies.txt -H 'Content-Type: application/json' -d '{"email":"${demo.email}","password":"${demo.password}"}' ${base}/api/auth/login`,
      `    curl -b cookies.txt -H 'Content-Type: application/json' -d '{"siteId":"${demo.siteId}","events":[{"type":"signup","visitorId":"v_1","email":"user@example.com"}]}' '${base}/api/tracking/server-events?workspaceId=${demo.workspaceId}'`,
    );
  } else {
    lines.push(
      `  Log in with an existing user (POST /api/auth/login). To create one or set a new password, stop the server and run`,
      `    npm run admin -- user create --email you@example.com --password '…'`,
      `    npm run admin -- user password --email you@example.com --password '…'   (the demo user is demo@example.com)`,
    );
  }
  process.stdout.write(lines.join("\n") + "\n\n");
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof EmbeddedDatabaseLockedError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
