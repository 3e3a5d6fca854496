import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawConnection, type TRawConnection } from "../support/raw-http.ts";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";

/**
 * The real server process with 20 kept-alive connections that each served one request and sit
 * idle. SIGTERM, and 50 ms later a request goes out on every one of them, as a client's pool
 * would reuse them: each must be answered (with `Connection: close`), then closed; a new
 * connection is refused; the process exits 0. Then the same under load: clients that pause a
 * few milliseconds between requests (so their connections are idle now and then) see no reset.
 * Embedded database: the requests need none.
 */
const CONNECTIONS = 20;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const LOAD_CLIENTS = 16;

type TOutcome = { status?: number; connection?: string; error?: string };

/** One GET on `agent`; resolves with the outcome, never throws. */
function get(agent: http.Agent, url: string): Promise<TOutcome> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, connection: res.headers.connection }));
      res.on("error", (err) => resolve({ error: `response cut: ${err.message}` }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.setTimeout(20_000, () => req.destroy(new Error("timed out")));
  });
}

let dataDir: string;
let server: TServerProcess | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "fse-sigterm-idle-"));
});
afterAll(async () => {
  server?.kill();
  await server?.exited;
  await rm(dataDir, { recursive: true, force: true });
});

describe("SIGTERM with idle keep-alive connections", () => {
  it(
    "answers a request sent 50 ms after SIGTERM on each idle connection, with Connection: close",
    { timeout: 180_000 },
    async () => {
      server = startServerProcess({
        DATA_DIR: dataDir,
        SEED_DEMO: "false",
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      });
      const baseUrl = await server.listening();
      const connections: TRawConnection[] = await Promise.all(
        Array.from({ length: CONNECTIONS }, () => openRawConnection(baseUrl)),
      );
      const first = await Promise.all(connections.map((c) => c.get("/healthz")));
      expect(first.map((r) => [r.status, r.headers.connection])).toEqual(first.map(() => [200, "keep-alive"]));

      const sigtermAt = Date.now();
      server.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 50));
      const answers = await Promise.all(
        connections.map((c) =>
          c.get("/healthz").then(
            (r) => ({ status: r.status, connection: r.headers.connection }),
            (err: Error) => ({ error: err.message }),
          ),
        ),
      );
      expect(answers).toEqual(answers.map(() => ({ status: 200, connection: "close" })));
      // Each answered connection is then closed by the server, and nothing new is accepted.
      await Promise.all(connections.map((c) => c.closed));
      await expect(openRawConnection(baseUrl)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      const code = await server.exited;
      expect(code, server.output().slice(-3000)).toBe(0);
      expect(Date.now() - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    },
  );

  it("closes idle connections that send nothing within the grace, and exits 0", { timeout: 180_000 }, async () => {
    server = startServerProcess({
      DATA_DIR: dataDir,
      SEED_DEMO: "false",
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    const baseUrl = await server.listening();
    const connections = await Promise.all(Array.from({ length: 5 }, () => openRawConnection(baseUrl)));
    await Promise.all(connections.map((c) => c.get("/healthz")));
    const sigtermAt = Date.now();
    server.child.kill("SIGTERM");
    await Promise.all(connections.map((c) => c.closed));
    const closedMs = Date.now() - sigtermAt;
    expect(await server.exited, server.output().slice(-3000)).toBe(0);
    expect(closedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
  });

  it(
    "under load, resets no request sent around SIGTERM: each is answered or, on a new connection, refused",
    { timeout: 180_000 },
    async () => {
      server = startServerProcess({
        DATA_DIR: dataDir,
        SEED_DEMO: "false",
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      });
      const baseUrl = await server.listening();
      let total = 0;
      const perClient = Array.from({ length: LOAD_CLIENTS }, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const outcomes: TOutcome[] = [];
        try {
          for (;;) {
            const outcome = await get(agent, `${baseUrl}/healthz`);
            outcomes.push(outcome);
            total++;
            if (outcome.error) return outcomes;
            await new Promise((r) => setTimeout(r, Math.random() * 5));
          }
        } finally {
          agent.destroy();
        }
      });
      while (total < 500) await new Promise((r) => setTimeout(r, 20));
      server.child.kill("SIGTERM");
      const code = await server.exited;
      const clients = await Promise.all(perClient);
      expect(code, server.output().slice(-3000)).toBe(0);
      // Each client: 200s, the last of them telling it to close, then its new connection refused.
      for (const outcomes of clients) {
        expect(outcomes.at(-1)).toEqual({ error: "ECONNREFUSED" });
        const answered = outcomes.slice(0, -1);
        expect(answered.filter((o) => o.status !== 200)).toEqual([]);
        expect(answered.at(-1)).toEqual({ status: 200, connection: "close" });
      }
    },
  );
});
