import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayContaining, stringMatching } from "../support/matchers.ts";

/**
 * `npm start` as a new user runs it: the production build (server/main.ts bundled into dist/, run
 * by plain `node`) on an empty embedded data folder prints a demo login that works, records the
 * printed example, stops cleanly on SIGTERM, and starts again on the same folder with the data
 * kept and no second demo user.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const START_TIMEOUT_MS = 120_000;
/** The visitor of the banner's example event. */
const VISITOR = "v_8f14e45fceea167a5a36dedd4bea2543";

type TServer = { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> };

function startServer(dataDir: string): TServer {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    NODE_ENV: "development",
    METRICS_PORT: "0",
  };
  for (const key of ["DATABASE_URL", "REDIS_URL", "SESSION_SECRET", "SEED_DEMO", "PUBLIC_URL"]) delete env[key];
  const child = spawn(process.execPath, ["dist/main.js"], { cwd: ROOT, env });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitFor(server: TServer, pattern: RegExp, ms = START_TIMEOUT_MS): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = server.output().match(pattern);
    if (match) return match;
    if (server.child.exitCode !== null)
      throw new Error(`server exited (${server.child.exitCode}):\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(server: TServer): Promise<number | null> {
  server.child.kill("SIGTERM");
  return server.exited;
}

const field = (text: string, name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)$`, "m").exec(text)?.[1];

describe("the server process (npm start on the embedded default)", () => {
  let dataDir: string;
  let server: TServer | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "fse-start-"));
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "pipe" });
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "prints a demo login that works, records the printed example, and stops cleanly on SIGTERM",
    { timeout: 240_000 },
    async () => {
      server = startServer(dataDir);
      const [, baseUrl] = await waitFor(server, /Server-side events API on (http:\/\/\S+)/);
      await waitFor(server, /curl -b cookies\.txt/);
      const text = server.output();
      const [email, password, workspaceId, siteId] = ["email", "password", "workspace", "site"].map((name) =>
        field(text, name),
      );
      expect({ email, workspaceId, siteId }).toMatchObject({
        email: "demo@example.com",
        workspaceId: stringMatching(/^ws_/),
        siteId: stringMatching(/^site_/),
      });
      expect(text).toContain(`${baseUrl}/api/docs`);

      const login = await fetch(`${baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
      const body = JSON.parse(/-d '(\{"siteId".*?)' /.exec(text)![1]!) as unknown;
      const recorded = await fetch(`${baseUrl}/api/tracking/server-events?workspaceId=${workspaceId}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify(body),
      });
      expect(recorded.status).toBe(200);
      expect(await recorded.json()).toMatchObject({
        accepted: 1,
        events: [{ status: "recorded", stage: "CONSIDERATION" }],
      });

      expect(await stop(server)).toBe(0);
      expect(server.output()).toMatch(/"msg":"stopped"/);
    },
  );

  it(
    "starts again on the same folder: data kept, no second demo user, the old password still works",
    { timeout: 240_000 },
    async () => {
      const first = server!.output();
      server = startServer(dataDir);
      const [, baseUrl] = await waitFor(server, /Server-side events API on (http:\/\/\S+)/);
      await waitFor(server, /Log in with an existing user/);
      expect(server.output()).not.toContain("Demo login");

      const login = await fetch(`${baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "demo@example.com", password: field(first, "password") }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
      const found = await fetch(
        `${baseUrl}/api/profiles/lookup?workspaceId=${field(first, "workspace")}&visitorId=${VISITOR}`,
        { headers: { cookie } },
      );
      expect(await found.json()).toMatchObject({
        profile: { eventCount: 1, identifiers: arrayContaining([{ kind: "VISITOR", value: VISITOR }]) },
      });

      expect(await stop(server)).toBe(0);
    },
  );
});
