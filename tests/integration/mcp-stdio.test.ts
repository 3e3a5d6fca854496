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
});
