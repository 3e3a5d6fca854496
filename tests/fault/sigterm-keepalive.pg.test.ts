import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { loginCookie, makeEvents, recordedCounts } from "../support/event-load.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * Only in the PostgreSQL run. The real server process under 4 keep-alive clients that loop
 * requests receives SIGTERM: it must stop taking requests (also on the kept-alive connections),
 * finish the in-flight ones, and exit 0 well before its shutdown limit. Each request either got
 * its whole response (and its events are recorded) or never started (and nothing is recorded).
 * A request sent on a kept-alive connection around SIGTERM is answered (`Connection: close`),
 * never reset: the only request that fails is one on a new connection, refused.
 */
const CLIENTS = 4;
const SHUTDOWN_TIMEOUT_MS = 30_000;

type TResult = { status?: number; connection?: string; body?: string; error?: string };
type TOutcome = TResult & { messageIds: string[]; afterSigterm: boolean };

let db: TDatabase;
let seed: TSeededWorkspace;
let server: TServerProcess | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  seed = await seedWorkspace(db.prisma);
});
afterAll(async () => {
  server?.kill();
  await db?.close();
});

/** One POST on `agent` (one kept-alive socket per client); resolves with the outcome, never throws. */
function post(agent: http.Agent, url: URL, cookie: string, body: string): Promise<TResult> {
  return new Promise((resolve) => {
    const headers = { "content-type": "application/json", cookie };
    const req = http.request(url, { method: "POST", agent, headers }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode, connection: res.headers.connection, body: text }));
      res.on("error", (err) => resolve({ status: res.statusCode, error: `response cut: ${err.message}` }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.setTimeout(20_000, () => req.destroy(new Error("timed out")));
    req.end(body);
  });
}

describe("SIGTERM under keep-alive load", () => {
  it("finishes in-flight requests, closes kept-alive connections, exits 0 promptly", { timeout: 180_000 }, async () => {
    const limits = { SERVER_EVENTS_RATE_LIMIT: "1000000", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
    server = startServerProcess({ DATABASE_URL: db.url, ...limits });
    const baseUrl = await server.listening();
    const cookie = await loginCookie(baseUrl, seed.owner.email, seed.owner.password);
    const url = new URL(`/api/tracking/server-events?workspaceId=${seed.workspace.id}`, baseUrl);

    let sigtermAt = 0;
    const outcomes: TOutcome[] = [];
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        // Loop until the server is gone: refused once it stopped listening, or it exited.
        while (server!.child.exitCode === null && server!.child.signalCode === null) {
          const events = makeEvents(`k${c}`, 5);
          const afterSigterm = sigtermAt > 0;
          const outcome = await post(agent, url, cookie, JSON.stringify({ siteId: seed.site.id, events }));
          outcomes.push({ messageIds: events.map((e) => e.messageId), afterSigterm, ...outcome });
          if (outcome.error === "ECONNREFUSED") break;
        }
      } finally {
        agent.destroy();
      }
    });
    const loadFrom = Date.now();
    while (outcomes.length < 40 && Date.now() - loadFrom < 30_000) await new Promise((r) => setTimeout(r, 50));
    const before = outcomes.length;
    sigtermAt = Date.now();
    server.child.kill("SIGTERM");
    const code = await server.exited;
    const stoppedMs = Date.now() - sigtermAt;
    await Promise.all(clients);

    expect(code, server.output().slice(-3000)).toBe(0);
    expect(stoppedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    expect(before).toBeGreaterThan(0);
    // No request got half a response, a 5xx or a reset; those refused never reached the app.
    for (const o of outcomes) {
      if (o.status !== undefined) expect(o, "a response").toMatchObject({ status: 200 });
      else expect(o.error, "a request that never started").toBe("ECONNREFUSED");
    }
    const counts = await recordedCounts(
      db.prisma,
      seed.site.id,
      outcomes.flatMap((o) => o.messageIds),
    );
    for (const o of outcomes) {
      expect(o.messageIds.map((id) => counts.get(id))).toEqual(o.messageIds.map(() => (o.status === 200 ? 1 : 0)));
    }
    // The responses finished during shutdown told their keep-alive client to go.
    const lastOfEachClient = outcomes.filter((o) => o.status === 200 && o.connection === "close");
    expect(lastOfEachClient.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.afterSigterm && o.status === 200 && o.connection !== "close")).toEqual([]);
    console.info(
      `sigterm: ${outcomes.length} requests, ${outcomes.filter((o) => o.status === 200).length} answered, ` +
        `${outcomes.filter((o) => o.error).length} never started, stopped ${stoppedMs} ms after SIGTERM, exit ${code}`,
    );
  });
});
