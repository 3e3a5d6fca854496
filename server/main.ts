import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { formatBanner, startupWarnings } from "./banner.ts";
import { serveAdminSocket } from "./cli/admin-socket.ts";
import { ConfigError, loadConfig, type TConfig } from "./config.ts";
import { EmbeddedDatabaseLockedError } from "./db/database.ts";
import { createApp } from "./app.ts";
import { drainOnShutdown, IDLE_GRACE_MS } from "./http/drain.ts";
import { metricsApp } from "./http/metrics.ts";
import { withLocalSecrets } from "./infra/local-secrets.ts";
import { createLogger } from "./infra/logger.ts";
import type { Metrics } from "./infra/metrics.ts";
import { createRuntime } from "./runtime.ts";
import { findKnownWorkspace, seedDemoIfEmpty } from "./seed/demo.ts";

/** Starts the service: config, database (migrated), Redis, HTTP; stops gracefully on SIGTERM/SIGINT. */
async function main() {
  const config = await withLocalSecrets(loadConfig());
  const logger = createLogger(config.logLevel);
  const runtime = await createRuntime(config, { logger });
  const demo = config.seedDemo ? await seedDemoIfEmpty(runtime.deps.db) : null;
  const known = demo ? null : await findKnownWorkspace(runtime.deps.db);
  // Only one process may open the embedded folder: the admin CLI hands its commands to this one,
  // listening before the "listening" line that says the process is ready.
  const adminSocket =
    runtime.deps.db.mode === "embedded" && !config.database.dataDir.startsWith("memory://")
      ? await serveAdminSocket({
          dataDir: config.database.dataDir,
          db: runtime.deps.db,
          secrets: config.secrets,
          logger,
        })
      : null;
  let shuttingDown = false;
  const app = createApp({ ...runtime, isShuttingDown: () => shuttingDown });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const { port } = server.address() as AddressInfo;
  const base = config.publicUrl ?? `http://localhost:${port}`;
  // Every listener is up before the "listening" line that says the process is ready.
  const metricsServer = config.metrics.listen ? await listenMetrics(config, runtime.deps.metrics) : undefined;
  if (metricsServer) logger.info("metrics listening", { ...(metricsServer.address() as AddressInfo) });
  logger.info("listening", { port, database: runtime.deps.db.mode, sessions: runtime.redis ? "redis" : "database" });
  for (const warning of startupWarnings(config)) logger.warn(warning);
  process.stdout.write(formatBanner({ base, database: runtime.deps.db.mode, demo, known, seedDemo: config.seedDemo }));

  // The idle connections' grace fits well inside the shutdown limit.
  const drainer = drainOnShutdown(server, Math.min(IDLE_GRACE_MS, config.shutdownTimeoutMs / 2));
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down", { signal });
    const force = setTimeout(() => {
      logger.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await drainer.drain();
    // Scrapes are short and carry nothing to finish: the metrics listener closes outright.
    metricsServer?.closeAllConnections();
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
    await adminSocket?.close();
    await runtime.close();
    clearTimeout(force);
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** The metrics listener (loopback by default); a port in use fails the start naming METRICS_PORT. */
async function listenMetrics(config: TConfig, metrics: Metrics): Promise<Server> {
  const { host, port } = config.metrics.listen!;
  const server = metricsApp(metrics, config.metrics.token).listen(port, host);
  try {
    await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Cannot serve /metrics on ${host}:${port} (METRICS_HOST, METRICS_PORT): ${reason}`);
  }
  return server;
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof EmbeddedDatabaseLockedError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
