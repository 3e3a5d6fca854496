import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../server/cli/run-admin.ts";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "fse-mcp-stdio-"));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** One admin command against the embedded database in `dataDir` (as an operator would run it). */
async function admin(...argv: string[]): Promise<string> {
  let stdout = "";
  let stderr = "";
  const code = await runAdmin(argv, {
    env: { DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
  });
  if (code !== 0) throw new Error(`admin ${argv.join(" ")} exited ${code}: ${stderr}`);
  return stdout.trim();
}

function stdioClient(env: Record<string, string>, args: string[] = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", "tsx", "server/cli/mcp-stdio.ts", ...args],
    env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env },
    cwd: process.cwd(),
    stderr: "pipe",
  });
  return { client: new Client({ name: "stdio-test", version: "1.0.0" }), transport };
}

describe("npm run mcp (stdio)", () => {
  it("serves the same tools for a key given by --key or FSE_API_KEY, and refuses a bad key", async () => {
    await admin("user", "create", "--email", "ops@example.test", "--password", "password-1");
    const created = await admin("workspace", "create", "--name", "Acme", "--owner", "ops@example.test", "--json");
    const ws = JSON.parse(created) as { id: string };
    const siteId = await admin("site", "create", "--workspace", ws.id, "--domain", "shop.example.com");
    const secret = await admin(
      "key",
      "create",
      "--workspace",
      ws.id,
      "--name",
      "agent",
      "--scopes",
      "write:custom_events,read:profiles",
    );

    const viaFlag = stdioClient({}, ["--key", secret]);
    await viaFlag.client.connect(viaFlag.transport);
    expect((await viaFlag.client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      "lookup_profile",
      "write_custom_events",
    ]);
    const written = await viaFlag.client.callTool({
      name: "write_custom_events",
      arguments: { siteId, events: [{ type: "signup", visitorId: "v_stdio", email: "a@example.com" }] },
    });
    expect(written.structuredContent).toMatchObject({ accepted: 1 });
    await viaFlag.client.close();

    const viaEnv = stdioClient({ FSE_API_KEY: secret });
    await viaEnv.client.connect(viaEnv.transport);
    const found = await viaEnv.client.callTool({ name: "lookup_profile", arguments: { email: "A@example.com" } });
    expect((found.structuredContent as { timeline: { type: string }[] }).timeline.map((t) => t.type)).toEqual([
      "signup",
    ]);
    await viaEnv.client.close();

    const bad = stdioClient({ FSE_API_KEY: `${secret.slice(0, -2)}zz` });
    await expect(bad.client.connect(bad.transport)).rejects.toThrow();
  }, 120_000);

  it("exits when its client closes stdin, and SIGTERM to `npm run mcp` leaves no process behind", async () => {
    await admin("user", "create", "--email", "ops2@example.test", "--password", "password-1");
    const created = await admin("workspace", "create", "--name", "Beta", "--owner", "ops2@example.test", "--json");
    const ws = JSON.parse(created) as { id: string };
    const secret = await admin("key", "create", "--workspace", ws.id, "--name", "agent", "--scopes", "read:profiles");

    const first = npmRunMcp(secret);
    await answersInitialize(first);
    first.stdin?.end();
    const [code] = (await withDeadline(once(first, "exit"), 15_000, "exit after stdin closed")) as [number | null];
    expect(code).toBe(0);

    const second = npmRunMcp(secret);
    await answersInitialize(second);
    const tree = descendantsOf(second.pid ?? -1);
    expect(tree.length).toBeGreaterThan(0);
    second.kill("SIGTERM");
    await withDeadline(once(second, "exit"), 15_000, "npm to exit on SIGTERM");
    const deadline = Date.now() + 10_000;
    while (tree.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(tree.filter(isAlive)).toEqual([]);
  }, 120_000);
});

/** `npm run mcp -- --key …` as an MCP client starts it: pipes on all three streams. */
function npmRunMcp(secret: string): ChildProcess {
  return spawn("npm", ["run", "-s", "mcp", "--", "--key", secret], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    cwd: process.cwd(),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Sends an MCP initialize request and waits for the answer: the server is up and serving. */
async function answersInitialize(child: ChildProcess): Promise<void> {
  const request = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "t", version: "1" } },
  };
  child.stdin?.write(`${JSON.stringify(request)}\n`);
  let out = "";
  const answered = new Promise<void>((resolve) =>
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"id":1')) resolve();
    }),
  );
  await withDeadline(answered, 60_000, "an answer to initialize");
}

/** Every process below `pid`, read from ps (the npm → sh → node chain). */
function descendantsOf(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows)
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
