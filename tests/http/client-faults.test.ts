import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * What a client does wrong with its body is its fault, not ours: uploads aborted half-way, bodies
 * malformed or too large are counted in `http_client_errors_total{kind}` and logged at info
 * without a stack, never at error (any client could flood the error log at will).
 */
const BODY_LIMIT = 4096;
const ABORTED = 10;

let app: TTestApp;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({
    config: { LOG_LEVEL: "info", BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    onLogLine: (line) => logLines.push(line),
  });
});
afterAll(() => app?.close());

type TLogLine = { level: string; msg: string; kind?: string; err?: { stack?: string } };
const logged = () => logLines.map((line) => JSON.parse(line) as TLogLine);

/** Headers announcing `length` bytes, half of them, a pause so the server reads them, then the socket destroyed. */
async function abortedUpload(path: string, length: number): Promise<void> {
  const { hostname, port } = new URL(app.baseUrl);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => undefined);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  socket.write(head + `{"events":[${" ".repeat(length / 2 - 11)}`);
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
}

async function clientErrors(kind: string): Promise<number> {
  const text = await app.runtime.deps.metrics.render();
  const match = new RegExp(`^http_client_errors_total\\{kind="${kind}"\\} (\\d+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms; log:\n${logLines.join("")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("client faults", () => {
  it("10 uploads aborted half-way: counted as aborted, logged at info without a stack, nothing at error", async () => {
    logLines.length = 0;
    const before = await clientErrors("aborted");
    for (let i = 0; i < ABORTED; i++) await abortedUpload("/api/tracking/server-events?workspaceId=ws_x", 2000);
    await until(() => logged().filter((l) => l.msg === "request").length >= ABORTED);
    expect(logged().filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
    await until(() => logged().filter((l) => l.msg === "client error").length >= ABORTED);
    const lines = logged();
    expect(lines.filter((l) => l.err?.stack !== undefined)).toEqual([]);
    expect(lines.filter((l) => l.msg === "client error").map((l) => [l.level, l.kind])).toEqual(
      Array.from({ length: ABORTED }, () => ["info", "aborted"]),
    );
    expect((await clientErrors("aborted")) - before).toBe(ABORTED);
  });

  it("bodies malformed, too large or in an unsupported encoding are counted by kind and answered 4xx", async () => {
    logLines.length = 0;
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=ws_x`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const before = {
      malformed: await clientErrors("malformed"),
      too_large: await clientErrors("too_large"),
      unsupported_encoding: await clientErrors("unsupported_encoding"),
    };
    expect((await post("{nope")).status).toBe(400);
    expect((await post(`{"a":"${"x".repeat(BODY_LIMIT)}"}`)).status).toBe(413);
    expect((await post("{}", { "content-encoding": "gzip" })).status).toBe(415);
    expect({
      malformed: (await clientErrors("malformed")) - before.malformed,
      too_large: (await clientErrors("too_large")) - before.too_large,
      unsupported_encoding: (await clientErrors("unsupported_encoding")) - before.unsupported_encoding,
    }).toEqual({ malformed: 1, too_large: 1, unsupported_encoding: 1 });
    const lines = logged();
    expect(lines.filter((l) => l.level === "error" || l.err?.stack !== undefined)).toEqual([]);
    expect(lines.filter((l) => l.msg === "client error").map((l) => l.level)).toEqual(["info", "info", "info"]);
  });
});
