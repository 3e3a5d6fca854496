import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";

/**
 * The real server process with no METRICS_TOKEN: `/metrics` is not on the public port (404) but
 * on the metrics listener bound to loopback, which serves that and nothing else, and closes on
 * SIGTERM with the rest.
 */
let dataDir: string;
let server: TServerProcess | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "fse-metrics-listener-"));
});
afterAll(async () => {
  server?.kill();
  await server?.exited;
  await rm(dataDir, { recursive: true, force: true });
});

describe("the metrics listener", () => {
  it(
    "serves /metrics on loopback, not on the public port, and stops with the process",
    { timeout: 180_000 },
    async () => {
      server = startServerProcess({ DATA_DIR: dataDir, SEED_DEMO: "false" });
      const baseUrl = await server.listening();
      const metricsUrl = server.metricsUrl();
      expect(metricsUrl, server.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const logLine = /^\{.*"msg":"metrics listening".*$/m.exec(server.output())?.[0];
      expect(logLine).toContain('"address":"127.0.0.1"');

      await fetch(`${baseUrl}/healthz`);
      expect((await fetch(`${baseUrl}/metrics`)).status).toBe(404);
      const res = await fetch(`${metricsUrl}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(404);

      server.child.kill("SIGTERM");
      expect(await server.exited, server.output().slice(-3000)).toBe(0);
      await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();
    },
  );
});
