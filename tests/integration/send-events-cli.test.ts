import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runSendEvents, type TSendEventsIo } from "../../client/send-events-cli.ts";
import type { TSendFailure } from "../../client/event-sender.ts";
import type { TSeededWorkspace, TTestUser } from "../support/fixtures.ts";
import { startHttpFaultProxy } from "../support/http-fault-proxy.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * The send-events CLI (as a function, real fetch; once as a real process) against the whole app
 * over HTTP: local validation before sending, server refusals mapped to file lines, retries
 * through a faulty proxy and the rate limiter, crash and re-run, and the sessions it leaves.
 */
/** Generous: the machine may be loaded, and several tests boot an app of their own. */
const SLOW = 180_000;
vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

let app: TTestApp;
let seed: TSeededWorkspace;
let dir: string;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ roles: ["VIEW_ONLY"] });
  dir = await mkdtemp(join(tmpdir(), "send-events-it-"));
});
afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sink() {
  const out = { text: "", write: (chunk: string) => void (out.text += chunk) };
  return out;
}

/** What `--json` prints (see printSummary in client/send-events-cli.ts). */
type TJsonSummary = {
  ok: boolean;
  rejected: number;
  sent: number;
  recorded: number;
  duplicates: number;
  retried: number;
  error?: TSendFailure;
};
/** A line of the rejects file. */
type TRejectLine = { line: number; reason: string; original: string; issues: { code: string }[] };
type TRun = { code: number; stdout: string; stderr: string; summary: TJsonSummary };

/** Runs the CLI with `--json`; the password comes from FSE_PASSWORD, the cookie file lives in a temp folder. */
async function cli(
  argv: string[],
  opts: { text?: string; password?: string; io?: Partial<TSendEventsIo> } = {},
): Promise<TRun> {
  const stdout = sink();
  const stderr = sink();
  const env = { XDG_CONFIG_HOME: join(dir, "xdg"), ...(opts.password ? { FSE_PASSWORD: opts.password } : {}) };
  const code = await runSendEvents(argv, {
    stdout,
    stderr,
    env,
    readFile: () => Promise.resolve(opts.text ?? ""),
    ...opts.io,
  });
  // Stays null on a run without --json; those tests do not read it.
  let summary = null as unknown as TJsonSummary;
  try {
    summary = JSON.parse(stdout.text) as TJsonSummary;
  } catch {
    // not a --json run
  }
  return { code, stdout: stdout.text, stderr: stderr.text, summary };
}

/** The arguments naming where a run sends to and as whom, after `--file <file>`; then `rest`. */
function runArgs(
  file: string,
  to: { baseUrl: string; workspaceId: string; siteId: string; email: string },
  ...rest: string[]
): string[] {
  return [
    "--file",
    file,
    "--base-url",
    to.baseUrl,
    "--workspace",
    to.workspaceId,
    "--site",
    to.siteId,
    "--email",
    to.email,
    ...rest,
  ];
}

/** Where a seeded workspace's user (its owner by default) sends to on `server`. */
function targetOf(server: { baseUrl: string }, s: TSeededWorkspace, who: TTestUser = s.owner) {
  return { baseUrl: server.baseUrl, workspaceId: s.workspace.id, siteId: s.site.id, email: who.email };
}

function sendFile(
  text: string,
  extra: string[] = [],
  who: TTestUser = seed.owner,
  io: Partial<TSendEventsIo> = {},
  base = app.baseUrl,
) {
  const argv = runArgs("events.ndjson", targetOf({ baseUrl: base }, seed, who), "--json", ...extra);
  return cli(argv, { text, password: who.password, io });
}

const line = (i: number, tag = "cli") =>
  JSON.stringify({ type: "pageview", visitorId: `${tag}-v-${i % 9}`, path: `/docs/${tag}/${i}` });
const fileOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => line(i, tag)).join("\n");
const countEvents = () => app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id } });
const countTagged = (tag: string) =>
  app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id, path: { startsWith: `/docs/${tag}/` } } });

/** Live sessions in the app's store (Redis keys under its prefix, or rows of the sessions table). */
async function countSessions(): Promise<number> {
  if (app.redis) {
    let n = 0;
    for await (const keys of app.redis.scanIterator({ MATCH: `${app.keyPrefix}sess:*`, COUNT: 200 })) n += keys.length;
    return n;
  }
  return app.db.prisma.session.count({ where: { expiresAt: { gt: new Date() } } });
}

const meStatus = async (cookie: string) => (await fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie } })).status;

describe("send-events against the app", () => {
  const file = [...Array.from({ length: 110 }, (_, i) => line(i)), "", line(3), line(3)].join("\n");

  it("sends a file in batches of 50 and records every line", async () => {
    const r = await sendFile(file);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({
      ok: true,
      lines: 112,
      valid: 112,
      sent: 112,
      recorded: 112,
      duplicates: 0,
      rejected: 0,
      batches: 3,
    });
    expect(r.stderr).toContain("112/112 events (100%)");
    expect(await countEvents()).toBe(112);
  });

  it("a re-run records nothing new; an edited file records only the new line", async () => {
    const again = await sendFile(file);
    expect(again.summary).toMatchObject({ ok: true, sent: 112, recorded: 0, duplicates: 112 });
    const edited = await sendFile(
      [JSON.stringify({ type: "signup", visitorId: "cli-v-new", email: "new@example.test" }), file].join("\n"),
    );
    expect(edited.summary).toMatchObject({ ok: true, sent: 113, recorded: 1, duplicates: 112 });
    expect(await countEvents()).toBe(113);
  });

  it("exits 1 with the server's message when the role may not record", async () => {
    const r = await sendFile(line(1), [], seed.members.VIEW_ONLY);
    expect(r.code).toBe(1);
    expect(r.summary.error).toMatchObject({ status: 403, reason: "ROLE_FORBIDDEN" });
    expect(r.stderr).toContain("HTTP 403");
  });

  it("fails to log in with a wrong password", async () => {
    const r = await sendFile(line(1), [], { ...seed.owner, password: "wrong password" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^send-events: login failed: HTTP 401: /);
  });
});

describe("bad lines are all found before anything is sent", () => {
  const good = Array.from({ length: 500 }, (_, i) => line(i, "bad"));
  const lines = [...good];
  lines[16] = '{"type":"pageview","visitorId":"v1",';
  lines[249] = JSON.stringify({ type: "pageview", visitorId: "anonymous" });
  lines[498] = JSON.stringify({ type: "pageview", visitorId: "v_9", plan: "pro" });
  const text = lines.join("\n");

  it("reports all three bad lines of a 500-line file in one pass and sends nothing (exit 2)", async () => {
    const before = await countEvents();
    const r = await sendFile(text);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("3 of 500 line(s) are invalid");
    expect(r.stderr).toMatch(/line 17: not valid JSON/);
    expect(r.stderr).toContain("line 250: visitorId: is a placeholder, not an identifier");
    expect(r.stderr).toMatch(/line 499: .*plan/);
    expect(r.summary).toMatchObject({ ok: false, lines: 500, valid: 497, rejected: 3, sent: 0 });
    expect(await countEvents()).toBe(before);
  });

  it("--dry-run validates without logging in or sending", async () => {
    const requests: string[] = [];
    const recording: typeof fetch = (input, init) => (
      requests.push(input instanceof Request ? input.url : input.toString()),
      fetch(input, init)
    );
    const sessions = await countSessions();
    const r = await cli(["--file", "events.ndjson", "--dry-run", "--json", "--skip-invalid"], {
      text,
      io: { fetch: recording },
    });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ ok: true, dryRun: true, valid: 497, rejected: 3, sent: 0 });
    expect(requests).toEqual([]);
    expect(await countSessions()).toBe(sessions);
    expect(await countTagged("bad")).toBe(0);
  });

  it("--skip-invalid sends the good lines and writes the bad ones to the rejects file", async () => {
    const rejects = join(dir, "rejects.ndjson");
    const r = await sendFile(text, ["--skip-invalid", "--rejects", rejects]);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({
      ok: true,
      valid: 497,
      rejected: 3,
      sent: 497,
      recorded: 497,
      rejectsFile: rejects,
    });
    expect(await countTagged("bad")).toBe(497);
    const written = (await readFile(rejects, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as TRejectLine);
    expect(written.map((w) => [w.line, w.reason])).toEqual([
      [17, "MALFORMED_JSON"],
      [250, "VALIDATION_FAILED"],
      [499, "VALIDATION_FAILED"],
    ]);
    expect(written[1]).toEqual({
      line: 250,
      reason: "VALIDATION_FAILED",
      issues: [{ path: ["visitorId"], code: "custom", message: "is a placeholder, not an identifier" }],
      original: lines[249],
    });
    expect(written[2]!.issues[0]).toMatchObject({ code: "unrecognized_keys" });
  });
});

describe("refusals the file cannot show", () => {
  const foreign = (i: number) =>
    JSON.stringify({ type: "signup", visitorId: `ref-v-${i}`, userId: "usr_someone_else", path: "/docs/ref/x" });
  const lines = Array.from({ length: 120 }, (_, i) => (i === 74 ? foreign(i) : line(i, "ref")));

  it("a batch refused mid-run is reported with the lines it covered; earlier batches stay recorded", async () => {
    const r = await sendFile(lines.join("\n"));
    expect(r.code).toBe(1);
    expect(r.summary).toMatchObject({
      ok: false,
      sent: 50,
      recorded: 50,
      error: { status: 403, reason: "USER_ID_MISMATCH", batch: 1, lines: { first: 51, last: 100 } },
    });
    expect(r.stderr).toContain("batch 2 (lines 51-100) refused: HTTP 403");
    expect(r.stderr).toMatch(/line 75 \(events\.24\.userId\): /);
    expect(r.stderr).toContain("the run stopped at line 51");
    expect(await countTagged("ref")).toBe(50);
  });

  it("with --skip-invalid, the refused event is skipped and written to the rejects file", async () => {
    const rejects = join(dir, "server-rejects.ndjson");
    const r = await sendFile(lines.join("\n"), ["--skip-invalid", "--rejects", rejects]);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ ok: true, rejected: 1, sent: 119, recorded: 69, duplicates: 50 });
    const written = JSON.parse((await readFile(rejects, "utf8")).trim()) as TRejectLine;
    expect(written).toMatchObject({
      line: 75,
      reason: "SERVER_REFUSED",
      issues: [{ path: ["userId"] }],
      original: lines[74],
    });
    expect(await countTagged("ref")).toBe(119);
  });

  it("a site outside the workspace stops the run at its first batch", async () => {
    const other = await app.seedWorkspace({ domain: "other.example.com" });
    const argv = runArgs("f", { ...targetOf(app, seed), siteId: other.site.id }, "--json", "--skip-invalid");
    const r = await cli(argv, { text: fileOf(60, "site"), password: seed.owner.password });
    expect(r.code).toBe(1);
    expect(r.summary.error).toMatchObject({
      status: 403,
      reason: "SITE_NOT_IN_WORKSPACE",
      lines: { first: 1, last: 50 },
    });
    expect(r.stderr).toContain("batch 1 (lines 1-50) refused");
  });
});

describe("transient failures are retried", () => {
  it("5xx from a proxy and a lost response: retried with backoff, resumed, nothing doubled", async () => {
    let events = 0;
    const proxy = await startHttpFaultProxy(app.baseUrl, (_i, req) => {
      if (!req.url?.startsWith("/api/tracking/server-events")) return { kind: "forward" };
      events++;
      if (events === 2 || events === 3) return { kind: "answer", status: 503 };
      if (events === 5) return { kind: "forward-then-drop" };
      return { kind: "forward" };
    });
    try {
      const r = await sendFile(fileOf(160, "flaky"), ["--max-delay", "1"], seed.owner, {}, proxy.baseUrl);
      expect(r.code).toBe(0);
      expect(r.summary).toMatchObject({ ok: true, sent: 160, retried: 3 });
      // The lost response's batch was recorded; its re-send is reported as duplicates.
      expect(r.summary.recorded + r.summary.duplicates).toBe(160);
      expect(r.summary.duplicates).toBe(50);
      expect(r.stderr).toMatch(/batch 2: HTTP 503; retry 1 in /);
      expect(r.stderr).toMatch(/batch 3: request failed: .*; retry 1 in /);
      expect(await countTagged("flaky")).toBe(160);
    } finally {
      await proxy.close();
    }
  });

  it("429: waits as long as Retry-After says and resumes where it stopped", async () => {
    const limited = await startTestApp({
      config: { SERVER_EVENTS_RATE_LIMIT: "2", SERVER_EVENTS_RATE_WINDOW_SECONDS: "2" },
    });
    try {
      const s = await limited.seedWorkspace();
      const argv = runArgs("f", targetOf(limited, s), "--json");
      const r = await cli(argv, { text: fileOf(150, "limited"), password: s.owner.password });
      expect(r.code).toBe(0);
      expect(r.summary).toMatchObject({ ok: true, sent: 150, recorded: 150, duplicates: 0 });
      expect(r.summary.retried).toBeGreaterThanOrEqual(1);
      expect(r.stderr).toMatch(/batch 3: HTTP 429; retry 1 in \d/);
      expect(await limited.db.prisma.trackingEvent.count({ where: { siteId: s.site.id } })).toBe(150);
    } finally {
      await limited.close();
    }
  });

  it("gives up on a 429 whose Retry-After is over --max-wait, after the allowed batches", async () => {
    const limited = await startTestApp({ config: { SERVER_EVENTS_RATE_LIMIT: "2" } });
    try {
      const s = await limited.seedWorkspace();
      const argv = runArgs("f", targetOf(limited, s), "--max-wait", "5", "--json");
      const r = await cli(argv, { text: fileOf(120, "wait"), password: s.owner.password });
      expect(r.code).toBe(1);
      expect(r.summary).toMatchObject({
        ok: false,
        sent: 100,
        recorded: 100,
        error: { status: 429, lines: { first: 101, last: 120 } },
      });
      expect(r.stderr).toMatch(/the server asks to wait \d+ s, over the 5 s allowed/);
    } finally {
      await limited.close();
    }
  });
});

describe("a crash midway, then a re-run", () => {
  it("records every event exactly once", async () => {
    const total = 400;
    const text = fileOf(total, "crash");
    const path = join(dir, "crash.ndjson");
    await writeFile(path, text);
    // Slow answers keep the process mid-file long enough to kill it there.
    const proxy = await startHttpFaultProxy(app.baseUrl, () => ({ kind: "forward", delayMs: 300 }));
    const child = spawn(
      join(process.cwd(), "node_modules/.bin/tsx"),
      ["client/send-events.ts", ...runArgs(path, targetOf(proxy, seed))],
      { env: { ...process.env, FSE_PASSWORD: seed.owner.password }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    try {
      const deadline = Date.now() + 120_000;
      while ((await countTagged("crash")) < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
    } finally {
      await proxy.close();
    }
    // A request in flight when the process died may still complete on the server: let it.
    await new Promise((r) => setTimeout(r, 2000));
    const before = await countTagged("crash");
    expect(before).toBeGreaterThanOrEqual(100);
    expect(before).toBeLessThan(total);

    const r = await sendFile(text);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ ok: true, sent: total, duplicates: before, recorded: total - before });
    expect(await countTagged("crash")).toBe(total);
  });
});

describe("sessions", () => {
  it("seven runs that log in themselves leave no session behind", async () => {
    const sessions = await countSessions();
    const cookies: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const set = res.headers.getSetCookie().find((c) => c.startsWith("fse.sid=") && !c.startsWith("fse.sid=;"));
      if (set) cookies.push(set.split(";", 1)[0]!);
      return res;
    };
    for (let run = 0; run < 7; run++) {
      const r = await sendFile(line(run, "seven"), [], seed.owner, { fetch: recording });
      expect(r.code).toBe(0);
    }
    expect(cookies).toHaveLength(7);
    expect(await countSessions()).toBe(sessions);
    for (const cookie of cookies) expect(await meStatus(cookie)).toBe(401);
  });

  it("login keeps one session in a 0600 cookie file for later runs; logout ends it and deletes the file", async () => {
    const cookieFile = join(dir, "cfg", "session.json");
    const sessions = await countSessions();
    const login = await cli(
      ["login", "--email", seed.owner.email, "--password", "-", "--base-url", app.baseUrl, "--cookie-file", cookieFile],
      {
        io: { readStdin: () => Promise.resolve(`${seed.owner.password}\n`) },
      },
    );
    expect(login).toMatchObject({ code: 0, stderr: "" });
    expect((await stat(cookieFile)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(cookieFile, "utf8")) as { cookie: string };
    expect(await meStatus(stored.cookie)).toBe(200);
    expect(await countSessions()).toBe(sessions + 1);

    for (let run = 0; run < 2; run++) {
      const r = await cli(
        [
          "--file",
          "f",
          "--workspace",
          seed.workspace.id,
          "--site",
          seed.site.id,
          "--cookie-file",
          cookieFile,
          "--json",
        ],
        { text: line(run, "stored") },
      );
      expect(r.code).toBe(0);
      expect(r.summary).toMatchObject({ ok: true, recorded: 1 });
    }
    expect(await countSessions()).toBe(sessions + 1);

    const logout = await cli(["logout", "--cookie-file", cookieFile]);
    expect(logout).toMatchObject({ code: 0, stderr: "" });
    await expect(stat(cookieFile)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await meStatus(stored.cookie)).toBe(401);
    expect(await countSessions()).toBe(sessions);

    const after = await cli(
      ["--file", "f", "--workspace", seed.workspace.id, "--site", seed.site.id, "--cookie-file", cookieFile],
      { text: line(9, "stored") },
    );
    expect(after.code).toBe(2);
    expect(after.stderr).toContain("not logged in");
  });

  it("a run with an ended session says to log in again", async () => {
    const cookieFile = join(dir, "ended", "session.json");
    await cli(["login", "--email", seed.owner.email, "--base-url", app.baseUrl, "--cookie-file", cookieFile], {
      password: seed.owner.password,
    });
    const { cookie } = JSON.parse(await readFile(cookieFile, "utf8")) as { cookie: string };
    await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    const r = await cli(
      ["--file", "f", "--workspace", seed.workspace.id, "--site", seed.site.id, "--cookie-file", cookieFile],
      { text: line(1, "ended") },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("HTTP 401");
    expect(r.stderr).toContain(`the session in ${cookieFile} has ended: run "send-events login" again`);
  });

  it("finds the server through FSE_BASE_URL; one it cannot reach is named with the flag to fix it", async () => {
    const cookieFile = join(dir, "env-base", "session.json");
    const viaEnv = await cli(["login", "--email", seed.owner.email, "--cookie-file", cookieFile], {
      password: seed.owner.password,
      io: { env: { FSE_BASE_URL: app.baseUrl, FSE_PASSWORD: seed.owner.password, XDG_CONFIG_HOME: dir } },
    });
    expect(viaEnv).toMatchObject({ code: 0, stderr: "" });
    expect(viaEnv.stdout).toContain(`logged in to ${app.baseUrl} as ${seed.owner.email}`);
    const saved = JSON.parse(await readFile(cookieFile, "utf8")) as { baseUrl: string };
    expect(saved.baseUrl).toBe(app.baseUrl);

    // A port nobody listens on: the message says where it tried and how to point elsewhere.
    const nowhere = "http://127.0.0.1:9";
    const refused = await cli(
      ["login", "--email", seed.owner.email, "--base-url", nowhere, "--cookie-file", cookieFile],
      {
        password: seed.owner.password,
      },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot reach ${nowhere}`);
    expect(refused.stderr).toContain("--base-url <url> (or FSE_BASE_URL)");
    const bad = await cli(["login", "--email", seed.owner.email], {
      io: { env: { FSE_BASE_URL: "localhost:3000", FSE_PASSWORD: "x", XDG_CONFIG_HOME: dir } },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("FSE_BASE_URL must be an http:// or https:// URL");
  });
});
