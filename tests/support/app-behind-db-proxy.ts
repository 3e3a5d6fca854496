import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { loadConfig } from "../../server/config.ts";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { createApp } from "../../server/app.ts";
import { createRuntime } from "../../server/runtime.ts";
import { loginCookie, type TBatchTarget } from "./event-load.ts";
import { seedWorkspace, type TSeededWorkspace } from "./fixtures.ts";
import { startTcpProxy } from "./tcp-proxy.ts";
import { createTestDatabase } from "./test-database.ts";

export type TAppBehindDbProxy = Awaited<ReturnType<typeof startAppBehindDbProxy>>;

/**
 * The app on a fresh PostgreSQL test database that it reaches only through a TCP proxy the test
 * controls (`proxy.cut()`, `proxy.freeze()`, `proxy.restore()`), logged in as the seeded owner.
 * `owner` is a direct connection to the same database, for checking what was written.
 */
export async function startAppBehindDbProxy(env: Record<string, string> = {}) {
  const owner: TDatabase = await createTestDatabase();
  const seed: TSeededWorkspace = await seedWorkspace(owner.prisma);
  const url = new URL(owner.url);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.port = String(proxy.port);
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...env });
  const { queryTimeoutMs } = config.database;
  const appDb = await openDatabase({ databaseUrl: url.toString(), migrate: false, poolMax: 4, queryTimeoutMs });
  const runtime = await createRuntime(config, { db: appDb, redis: null });
  const server: Server = createApp(runtime).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cookie = await loginCookie(baseUrl, seed.owner.email, seed.owner.password);
  const target: TBatchTarget = { baseUrl, cookie, workspaceId: seed.workspace.id, siteId: seed.site.id };
  return {
    owner,
    proxy,
    seed,
    target,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await appDb.close();
      await proxy.close();
      await owner.close();
    },
  };
}
