import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { createApp } from "../../server/http/app.ts";
import { createRuntime, type TRuntime } from "../../server/runtime.ts";
import { loginCookie, makeEvents, recordedCounts, sendBatch, type TBatchTarget } from "../support/event-load.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * Only in the PostgreSQL run. The app reaches its database through a proxy the test cuts (open
 * connections reset, new ones refused): the database "restarts". Requests answer 503 with
 * Retry-After on both transports while it is away, and work again once it is back.
 */
let owner: TDatabase;
let appDb: TDatabase;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let runtime: TRuntime;
let server: Server;
let seed: TSeededWorkspace;
let target: TBatchTarget;

beforeAll(async () => {
  owner = await createTestDatabase();
  seed = await seedWorkspace(owner.prisma);
  const url = new URL(owner.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.port = String(proxy.port);
  appDb = await openDatabase({ databaseUrl: url.toString(), migrate: false, poolMax: 4 });
  runtime = await createRuntime(loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" }), { db: appDb, redis: null });
  server = createApp(runtime).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cookie = await loginCookie(baseUrl, seed.owner.email, seed.owner.password);
  target = { baseUrl, cookie, workspaceId: seed.workspace.id, siteId: seed.site.id };
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await appDb?.close();
  await proxy?.close();
  await owner?.close();
});

describe("when the database connection is lost (reset) and new ones are refused", () => {
  const title = "writes and reads answer 503 DATABASE_UNAVAILABLE + Retry-After on both transports, then recover";
  it(title, { timeout: 60_000 }, async () => {
    expect((await sendBatch(target, makeEvents("before", 3))).status).toBe(200);
    await proxy.cut();

    const down = [
      await sendBatch(target, makeEvents("down", 3), "rest"),
      await sendBatch(target, makeEvents("down", 3), "trpc"),
    ];
    const retryAfter = stringMatching(/^[1-9]\d*$/);
    const unavailable = { status: 503, reason: "DATABASE_UNAVAILABLE", retryAfter };
    for (const b of down) expect(b).toMatchObject(unavailable);
    const me = await fetch(`${target.baseUrl}/api/auth/me`, { headers: { cookie: target.cookie } });
    expect(me.status).toBe(503);
    expect(await me.json()).toMatchObject({ data: { reason: "DATABASE_UNAVAILABLE" } });
    expect((await fetch(`${target.baseUrl}/readyz`)).status).toBe(503);

    await proxy.restore();
    const readiness = async () => (await fetch(`${target.baseUrl}/readyz`)).status;
    await expect.poll(readiness, { timeout: 10_000, interval: 200 }).toBe(200);
    const messageIds = down.flatMap((b) => b.messageIds);
    const counts = await recordedCounts(owner.prisma, seed.site.id, messageIds);
    expect([...counts.values()]).toEqual(messageIds.map(() => 0));
    expect((await sendBatch(target, makeEvents("after", 3), "trpc")).status).toBe(200);
  });
});
