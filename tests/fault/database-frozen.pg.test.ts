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

/**
 * Only in the PostgreSQL run. The app reaches its database through a proxy the test freezes:
 * connections stay open but nothing comes back, as with a stuck server or a network that drops
 * packets without a reset. Without a deadline of its own the app would wait for TCP to give up
 * (minutes); with DATABASE_QUERY_TIMEOUT_MS it answers 503, drops those connections, and works
 * again with fresh ones once the database answers.
 */
const QUERY_TIMEOUT_MS = 1_000;
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
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
  });
  const { queryTimeoutMs } = config.database;
  appDb = await openDatabase({ databaseUrl: url.toString(), migrate: false, poolMax: 4, queryTimeoutMs });
  runtime = await createRuntime(config, { db: appDb, redis: null });
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

describe("when the database stops answering without closing anything", () => {
  it("requests answer 503 DATABASE_UNAVAILABLE on both transports instead of hanging, then recover", async () => {
    const warm = await Promise.all([1, 2, 3].map((i) => sendBatch(target, makeEvents(`warm-${i}`, 2))));
    expect(warm.map((b) => b.status)).toEqual([200, 200, 200]);
    proxy.freeze();

    // Each would wait for minutes without the deadline; vitest's 30 s test timeout would fail it.
    const frozen = await Promise.all([
      sendBatch(target, makeEvents("frozen-rest", 3), "rest"),
      sendBatch(target, makeEvents("frozen-trpc", 3), "trpc"),
    ]);
    for (const b of frozen) expect(b).toMatchObject({ status: 503, reason: "DATABASE_UNAVAILABLE" });
    expect((await fetch(`${target.baseUrl}/readyz`)).status).toBe(503);

    await proxy.restore();
    const readiness = async () => (await fetch(`${target.baseUrl}/readyz`)).status;
    await expect.poll(readiness, { timeout: 10_000, interval: 200 }).toBe(200);
    const after = await sendBatch(target, makeEvents("after", 3), "rest");
    expect(after.status).toBe(200);

    // Nothing half-written: the refused batches' events are not there, the later batch is whole.
    const refused = frozen.flatMap((b) => b.messageIds);
    const counts = await recordedCounts(owner.prisma, seed.site.id, [...refused, ...after.messageIds]);
    expect(refused.map((id) => counts.get(id))).toEqual(refused.map(() => 0));
    expect(after.messageIds.map((id) => counts.get(id))).toEqual(after.messageIds.map(() => 1));
  });
});
