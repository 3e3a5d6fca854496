import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSendEvents } from "../../client/send-events-cli.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";

/**
 * The send-events CLI (as a function, real fetch) against the whole app over HTTP:
 * login, batching, re-runs reported as duplicates, server refusals mapped to file lines.
 */
let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ roles: ["VIEW_ONLY"] });
}, 60_000);
afterAll(async () => {
  await app?.close();
});

function sink() {
  const out = { text: "", write: (chunk: string) => void (out.text += chunk) };
  return out;
}

async function sendFile(text: string, extra: string[] = [], who = seed.owner) {
  const stdout = sink();
  const stderr = sink();
  const argv = ["--file", "events.ndjson", "--base-url", app.baseUrl, "--workspace", seed.workspace.id, "--site", seed.site.id, "--email", who.email, "--password", who.password, ...extra];
  const code = await runSendEvents(argv, { stdout, stderr, readFile: async () => text });
  return { code, stderr: stderr.text, summary: stdout.text ? JSON.parse(stdout.text) : null };
}

const line = (i: number) => JSON.stringify({ type: "pageview", visitorId: `cli-v-${i % 9}`, path: `/docs/${i}` });
const countEvents = () => app.db.prisma.trackingEvent.count({ where: { siteId: seed.site.id } });

describe("npm run send-events against the app", () => {
  const file = [...Array.from({ length: 110 }, (_, i) => line(i)), "", line(3), line(3)].join("\n");

  it("sends a file in batches of 50 and records every line", async () => {
    const r = await sendFile(file);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ ok: true, total: 112, sent: 112, recorded: 112, duplicates: 0, batches: 3 });
    expect(r.stderr).toContain("sent 50/112 (recorded 50, duplicates 0)");
    expect(r.stderr).toContain("sent 112/112 (recorded 112, duplicates 0)");
    expect(await countEvents()).toBe(112);
  }, 60_000);

  it("a re-run records nothing new; an edited file records only the new line", async () => {
    const again = await sendFile(file);
    expect(again.summary).toMatchObject({ ok: true, sent: 112, recorded: 0, duplicates: 112 });
    const edited = await sendFile([JSON.stringify({ type: "signup", visitorId: "cli-v-new", email: "new@example.test" }), file].join("\n"));
    expect(edited.summary).toMatchObject({ ok: true, sent: 113, recorded: 1, duplicates: 112 });
    expect(await countEvents()).toBe(113);
  }, 60_000);

  it("stops with the server's issues, named by file line, and records nothing of that batch", async () => {
    const r = await sendFile(["", line(1), JSON.stringify({ type: "pageview", visitorId: "anonymous" })].join("\n"));
    expect(r.code).toBe(1);
    expect(r.summary).toMatchObject({ ok: false, sent: 0, error: { status: 400, issues: [{ line: 3, path: ["events", 1, "visitorId"] }] } });
    expect(r.stderr).toMatch(/line 3 \(events\.1\.visitorId\): /);
    expect(await countEvents()).toBe(113);
  });

  it("exits 1 with the server's message when the role may not record", async () => {
    const r = await sendFile(line(1), [], seed.members.VIEW_ONLY!);
    expect(r.code).toBe(1);
    expect(r.summary.error).toMatchObject({ status: 403 });
    expect(r.stderr).toContain("HTTP 403");
  });

  it("fails to log in with a wrong password", async () => {
    const r = await sendFile(line(1), [], { ...seed.owner, password: "wrong password" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^send-events: login failed: HTTP 401: /);
  });
});

describe("rate limit", () => {
  it("gives up on a 429 whose Retry-After is over --max-wait, after the allowed batches", async () => {
    const limited = await startTestApp({ config: { SERVER_EVENTS_RATE_LIMIT: "2" } });
    try {
      const s = await limited.seedWorkspace();
      const stdout = sink();
      const stderr = sink();
      const text = Array.from({ length: 120 }, (_, i) => line(i)).join("\n");
      const argv = ["--file", "f", "--base-url", limited.baseUrl, "--workspace", s.workspace.id, "--site", s.site.id, "--email", s.owner.email, "--password", s.owner.password, "--max-wait", "5"];
      const code = await runSendEvents(argv, { stdout, stderr, readFile: async () => text });
      expect(code).toBe(1);
      expect(JSON.parse(stdout.text)).toMatchObject({ ok: false, sent: 100, recorded: 100, error: { status: 429 } });
      expect(stderr.text).toMatch(/the server asks to wait \d+ s, over the 5 s allowed/);
    } finally {
      await limited.close();
    }
  }, 60_000);
});
