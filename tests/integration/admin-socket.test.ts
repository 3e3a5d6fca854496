import { spawn } from "node:child_process";
import net from "node:net";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/database.ts";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";

/**
 * The embedded default: the server holds DATA_DIR, and the real admin CLI (another process)
 * hands its commands to it through DATA_DIR/admin.sock instead of being refused.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
let dataDir: string;
let server: TServerProcess | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "fse-adminsock-"));
});
afterEach(async () => {
  server?.kill();
  await server?.exited;
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

type TRun = { code: number | null; stdout: string; stderr: string };

/** `npm run admin -- …` as its own process, on the same DATA_DIR, with `stdin` piped in. */
function admin(argv: string[], stdin = ""): Promise<TRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: "development" };
  for (const key of ["DATABASE_URL", "REDIS_URL", "SESSION_SECRET"]) delete env[key];
  const child = spawn(process.execPath, ["--import", "tsx", "server/cli/admin.ts", ...argv], { cwd: ROOT, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

const socketFile = () => path.join(dataDir, "admin.sock");

/** The socket listens before the "listening" line the helper waits for. */
function start(): Promise<string> {
  server = startServerProcess({ DATA_DIR: dataDir });
  return server.listening();
}

/** Writes `data` raw to the socket and collects the reply lines until the server ends the connection. */
function raw(data: string | Buffer): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socketFile(), () => conn.write(data));
    let text = "";
    conn.on("data", (chunk: Buffer) => (text += chunk.toString()));
    conn.on("error", reject);
    conn.on("end", () =>
      resolve(
        text
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as unknown),
      ),
    );
  });
}

async function login(base: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  return response.status;
}

describe("the admin CLI while the embedded server runs", () => {
  it("runs its commands in the server through a 0600 socket that is gone after the server stops", async () => {
    const base = await start();
    const mode = await stat(socketFile());
    expect(mode.isSocket()).toBe(true);
    expect(mode.mode & 0o777).toBe(0o600);

    const user = await admin(["user", "create", "--email", "ops@example.test", "--password", "-"], "pass-word-1\n");
    expect(user).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usr_[0-9a-z]{26}\n$/) as string });
    expect(await login(base, "ops@example.test", "pass-word-1")).toBe(200);

    const workspace = await admin(["workspace", "create", "--name", "Acme", "--owner", "ops@example.test"]);
    expect(workspace.code).toBe(0);
    const workspaceId = workspace.stdout.trim();
    expect(workspaceId).toMatch(/^ws_/);
    await admin(["user", "create", "--email", "viewer@example.test", "--password", "-"], "pass-word-2");
    const member = await admin([
      "member",
      "add",
      "--workspace",
      workspaceId,
      "--email",
      "viewer@example.test",
      "--role",
      "VIEW_ONLY",
    ]);
    expect(member).toMatchObject({ code: 0, stderr: "" });
    const key = await admin(["key", "create", "--workspace", workspaceId, "--name", "ci", "--scopes", "read:profiles"]);
    expect(key.code).toBe(0);
    expect(key.stdout.trim().length).toBeGreaterThan(20);
    const site = await admin(["site", "create", "--workspace", workspaceId, "--domain", "acme.test"]);
    expect(site.code).toBe(0);
    const list = await admin(["site", "list", "--workspace", workspaceId]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(list.stdout).toContain(`${site.stdout.trim()}\tacme.test`);
    // A failing command keeps its message and exit code across the socket.
    const duplicate = await admin(["user", "create", "--email", "ops@example.test", "--password", "-"], "pass-word-1");
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^admin: .*ops@example\.test/);

    const migrate = await admin(["migrate"]);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain('"migrate" is not taken over the admin socket');
    // Anything but one request line of bounded size is refused, without running anything.
    expect(await raw("user create\n")).toEqual([{ err: expect.stringContaining("not JSON") as string }, { exit: 2 }]);
    expect(await raw('{"argv": "user"}\n')).toEqual([
      { err: expect.stringContaining('"argv"') as string },
      { exit: 2 },
    ]);
    expect(await raw(Buffer.alloc(1024 * 1024 + 10, "a"))).toEqual([
      { err: expect.stringContaining("larger than 1048576 bytes") as string },
      { exit: 2 },
    ]);

    // The password was never an argument of any process, and the server's log does not name it.
    expect(server!.output()).not.toContain("pass-word-1");

    server!.child.kill("SIGTERM");
    expect(await server!.exited).toBe(0);
    expect(existsSync(socketFile())).toBe(false);
    const itself = await admin(["site", "list", "--workspace", workspaceId]);
    expect(itself).toMatchObject({ code: 0, stderr: "" });
    expect(itself.stdout).toContain("acme.test");
  }, 240_000);

  it("after a SIGKILL: a held folder with a dead socket is explained, and the next start serves again", async () => {
    await start();
    server!.child.kill("SIGKILL");
    await server!.exited;
    expect(existsSync(socketFile())).toBe(true);

    // Another process holds the folder now, and nobody answers on the socket the killed server left.
    const held = await openDatabase({ dataDir });
    try {
      const refused = await admin([
        "key",
        "create",
        "--workspace",
        "ws_1",
        "--name",
        "ci",
        "--scopes",
        "read:profiles",
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^admin: "key create" needs the embedded database in ${dataDir}, which process ${process.pid} ` +
            `\\(the server\\?\\) holds, and its admin socket ${dataDir}/admin\\.sock did not answer: .*ECONNREFUSED`,
        ),
      );
    } finally {
      await held.close();
    }

    const base = await start();
    expect((await stat(socketFile())).mode & 0o777).toBe(0o600);
    const user = await admin(["user", "create", "--email", "late@example.test", "--password", "-"], "pass-word-3");
    expect(user.code).toBe(0);
    expect(await login(base, "late@example.test", "pass-word-3")).toBe(200);
    server!.child.kill("SIGTERM");
    expect(await server!.exited).toBe(0);
    expect(existsSync(socketFile())).toBe(false);
  }, 240_000);
});
