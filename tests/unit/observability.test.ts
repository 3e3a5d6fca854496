import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestObservability } from "../../server/http/observability.ts";
import { createLogger } from "../../server/infra/logger.ts";
import { Metrics } from "../../server/infra/metrics.ts";

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split("\n").filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const logger = createLogger("info", {}, sink);
const metrics = new Metrics();
let server: ReturnType<express.Express["listen"]>;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use(requestObservability(logger, metrics));
  app.get("/things/:id", (_req, res) => void res.status(201).json({ ok: true }));
  app.get("/boom", (_req, res) => void res.status(500).json({ ok: false }));
  server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const requestLines = () => lines.filter((l) => l.msg === "request");

describe("request logs", () => {
  it("write one line per request with the fields log queries use, and echo the request id", async () => {
    lines.length = 0;
    const res = await fetch(`${baseUrl}/things/prf_0123456789abcdef?x=1`, { headers: { cookie: "fse.sid=secret" } });
    expect(res.status).toBe(201);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_/);
    await expect.poll(() => requestLines().length).toBe(1);
    const line = requestLines()[0]!;
    expect(line).toMatchObject({
      level: "info",
      msg: "request",
      requestId,
      method: "GET",
      path: "/things/{id}",
      status: 201,
    });
    expect(typeof line.ms).toBe("number");
    expect(new Date(String(line.time)).toISOString()).toBe(line.time);
    expect(JSON.stringify(line)).not.toContain("secret");
  });

  it("keep a sane incoming X-Request-Id and replace a hostile one", async () => {
    const kept = await fetch(`${baseUrl}/boom`, { headers: { "x-request-id": "upstream-42" } });
    expect(kept.headers.get("x-request-id")).toBe("upstream-42");
    const replaced = await fetch(`${baseUrl}/boom`, { headers: { "x-request-id": "bad id <script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
    await expect.poll(() => requestLines().filter((l) => l.status === 500).length).toBeGreaterThanOrEqual(2);
    expect(requestLines().find((l) => l.requestId === "upstream-42")).toMatchObject({ path: "/boom", status: 500 });
  });
});

describe("logger", () => {
  it("redacts passwords and cookies and serializes errors with name, message and stack", () => {
    lines.length = 0;
    logger.child({ requestId: "req_1" }).error("failed", {
      password: "hunter2",
      body: { password: "hunter2" },
      headers: { cookie: "fse.sid=s", authorization: "Bearer t" },
      err: new TypeError("bad"),
    });
    const line = lines[0]!;
    expect(JSON.stringify(line)).not.toMatch(/hunter2|fse\.sid|Bearer/);
    expect(line).toMatchObject({ level: "error", msg: "failed", requestId: "req_1", password: "[redacted]" });
    expect(line.err).toMatchObject({ name: "TypeError", message: "bad" });
    expect((line.err as { stack?: string }).stack).toContain("TypeError: bad");
  });

  it("drops lines below its level", () => {
    lines.length = 0;
    createLogger("warn", {}, sink).info("quiet");
    expect(lines).toEqual([]);
  });
});

describe("metrics (prom-client)", () => {
  it("keep today's names and labels and add the process's own metrics", async () => {
    await fetch(`${baseUrl}/things/prf_0123456789abcdef`);
    metrics.inc("server_events_recorded_total", "Server events recorded.", {}, 3);
    const text = await metrics.render();
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/things\/\{id\}",status="201"\} [1-9]/m,
    );
    expect(text).toMatch(/^server_events_recorded_total 3$/m);
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
      "nodejs_gc_duration_seconds",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});
