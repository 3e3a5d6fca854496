import fc from "fast-check";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, deriveMessageId, formatReject, planBatches, splitLines } from "../../client/event-batches.ts";
import type { TEvent } from "../../client/event-batches.ts";
import { sendEvents } from "../../client/event-sender.ts";
import { backoffDelayMs, DEFAULT_RETRY_POLICY, parseRetryAfter } from "../../client/retry.ts";
import type { TSendCounts } from "../../client/event-sender.ts";
import { createProgressReporter, formatDuration, formatProgress, formatSummary } from "../../client/progress.ts";
import { runSendEvents } from "../../client/send-events-cli.ts";
import { arrayContaining, objectContaining, stringContaining } from "../support/matchers.ts";

const ev = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "pageview", visitorId: `v_${i}`, path: `/p/${i}`, ...extra });
const plan_ = (lines: string[], size?: number) => planBatches(lines, { siteId: "site_1", size });
const idsOf = (plan: ReturnType<typeof planBatches>) => plan.batches.flat().map((p) => p.event.messageId);

describe("planBatches: parsing and validation", () => {
  it("skips blank lines and keeps file line numbers and the original text", () => {
    const plan = plan_(["", ev(1), "   ", ev(2), ""]);
    expect(plan.total).toBe(2);
    expect(plan.rejects).toEqual([]);
    expect(plan.batches[0]!.map((p) => p.line)).toEqual([2, 4]);
    expect(plan.batches[0]![0]!.original).toBe(ev(1));
    expect(plan.batches[0]![0]!.event).toMatchObject({ type: "pageview", visitorId: "v_1" });
  });

  it("reports every bad line at once, with its number, field path and reason, and plans the rest", () => {
    const lines = [
      ev(1),
      "{not json",
      ev(2, { props: "flat" }),
      "[1,2]",
      JSON.stringify({ type: "pageview", visitorId: "anonymous" }),
      ev(3, { colour: "red" }),
      JSON.stringify({ type: "has space", path: "/x" }),
      ev(4, { timestamp: new Date(Date.now() + 3 * 3600_000).toISOString() }),
      ev(5, { messageId: "" }),
      ev(6),
    ];
    const plan = plan_(lines);
    expect(plan.batches.flat().map((p) => p.line)).toEqual([1, 10]);
    const byLine = Object.fromEntries(plan.rejects.map((r) => [r.line, r]));
    expect(Object.keys(byLine).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(byLine[2]).toMatchObject({ reason: "MALFORMED_JSON", original: "{not json" });
    expect(byLine[3]).toMatchObject({ reason: "VALIDATION_FAILED", issues: [{ path: ["props"] }] });
    expect(byLine[4]).toMatchObject({ reason: "NOT_AN_OBJECT" });
    expect(byLine[5]!.issues).toEqual([
      { path: ["visitorId"], code: "custom", message: "is a placeholder, not an identifier" },
    ]);
    expect(byLine[6]!.issues[0]).toMatchObject({ code: "unrecognized_keys" });
    const seven = byLine[7]!.issues.map((i) => i.path.join(".") || "(event)");
    expect(seven).toEqual(arrayContaining(["type", "(event)"]));
    expect(byLine[8]!.issues).toEqual([
      objectContaining({ path: ["timestamp"], message: stringContaining("in the future") }),
    ]);
    expect(byLine[9]!.issues[0]).toMatchObject({ path: ["messageId"] });
    expect(formatReject(byLine[5]!)).toBe("line 5: visitorId: is a placeholder, not an identifier");
  });

  it("rejects the later of two lines with the same messageId", () => {
    const plan = plan_([ev(1, { messageId: "m1" }), ev(2, { messageId: "m1" })]);
    expect(plan.total).toBe(1);
    expect(plan.rejects).toEqual([
      {
        line: 2,
        reason: "DUPLICATE_MESSAGE_ID",
        issues: [{ path: ["messageId"], code: "custom", message: "repeats the messageId of line 1" }],
        original: ev(2, { messageId: "m1" }),
      },
    ]);
  });

  it("splits CRLF files and drops a byte-order mark", () => {
    expect(splitLines(`\uFEFF${ev(1)}\r\n${ev(2)}\r\n`)).toEqual([ev(1), ev(2), ""]);
  });
});

describe("planBatches: messageId", () => {
  it("keeps a messageId given on the line", () => {
    expect(idsOf(plan_([ev(1, { messageId: "order-17" })]))).toEqual(["order-17"]);
  });

  it("derives the same id whatever the key order, whitespace or position in the file", () => {
    const a = plan_(['{"type":"signup","visitorId":"v1","props":{"a":1,"b":[1,{"y":2,"x":1}]}}']);
    const b = plan_([
      ev(9),
      "",
      '  { "props": { "b": [1, { "x": 1, "y": 2 }], "a": 1 }, "visitorId": "v1", "type": "signup" }  ',
    ]);
    expect(idsOf(b)[1]).toBe(idsOf(a)[0]);
    expect(idsOf(a)[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("numbers identical events by occurrence, so repeats are distinct and stable", () => {
    const same = ev(1);
    const ids = idsOf(plan_([same, ev(2), same, same]));
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]).toBe(deriveMessageId(JSON.parse(same) as TEvent, 0));
    expect(ids[2]).toBe(deriveMessageId(JSON.parse(same) as TEvent, 1));
    expect(ids[3]).toBe(deriveMessageId(JSON.parse(same) as TEvent, 2));
  });

  it("a re-run of an edited file re-derives the ids of the unchanged lines", () => {
    const original = Array.from({ length: 120 }, (_, i) => ev(i));
    const edited = [ev(1000), ...original.slice(0, 60), ev(1001), "", ...original.slice(60)];
    const before = new Set(idsOf(plan_(original)));
    const after = idsOf(plan_(edited));
    expect(after.filter((id) => before.has(id))).toHaveLength(120);
    expect(after.filter((id) => !before.has(id))).toHaveLength(2);
  });

  it("property: reordering the lines never changes an event's id", () => {
    const lines = fc.array(
      fc.record({ type: fc.constantFrom("pageview", "signup"), visitorId: fc.constantFrom("v1", "v2", "v3") }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(
        lines.chain((ls) =>
          fc.tuple(fc.constant(ls), fc.shuffledSubarray(ls, { minLength: ls.length, maxLength: ls.length })),
        ),
        ([original, shuffled]) => {
          // Identical events are interchangeable: compare the multiset of (event, id) pairs.
          const pairs = (events: object[]) =>
            plan_(events.map((e) => JSON.stringify(e)))
              .batches.flat()
              .map((p) => canonicalJson(p.event))
              .sort();
          expect(pairs(shuffled)).toEqual(pairs(original));
        },
      ),
    );
  });

  it("canonical JSON sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}',
    );
  });
});

describe("planBatches: batching", () => {
  it.each([
    [0, []],
    [1, [1]],
    [50, [50]],
    [51, [50, 1]],
    [1000, Array(20).fill(50)],
    [1001, [...Array<number>(20).fill(50), 1]],
  ])("%i events → batches of %j", (n, sizes) => {
    const plan = plan_(Array.from({ length: n }, (_, i) => ev(i)));
    expect(plan.total).toBe(n);
    expect(plan.batches.map((b) => b.length)).toEqual(sizes);
  });

  it("keeps file order across batches", () => {
    const plan = plan_(Array.from({ length: 75 }, (_, i) => ev(i)));
    expect(plan.batches.flat().map((p) => p.line)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
  });
});

describe("backoff", () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 10_000 };

  it("doubles per attempt, jittered between half and the whole step, and capped", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, policy, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, policy, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(4, policy, () => 1)).toBe(10_000);
    expect(backoffDelayMs(30, policy, () => 0.5)).toBe(7500);
  });

  it("property: every wait lies within [step/2, step] and never over the cap", () => {
    fc.assert(
      fc.property(fc.nat(40), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
        const wait = backoffDelayMs(attempt, policy, () => r);
        expect(wait).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(wait).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
    );
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2030-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Tue, 01 Jan 2030 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
});

/** What the sender posts: a login (email, password) or a batch (siteId, events). */
type TSentBody = {
  siteId?: string;
  events: (TEvent & { messageId?: string; visitorId?: string })[];
  password?: string;
};

/** A scripted server: answers each call with the next response and records the requests. */
function fakeServer(responses: (() => Response)[]) {
  const calls: { url: string; init: RequestInit; body: TSentBody }[] = [];
  const fetch = ((url: string, init: RequestInit) => {
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as TSentBody) : undefined;
    // Only POST bodies are read by the tests (a GET has none).
    calls.push({ url, init, body: body! });
    const next = responses.shift();
    if (!next) return Promise.reject(new Error("unexpected request"));
    return Promise.resolve(next());
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const accepted = (n: number, dup = 0) =>
  json(200, {
    requestId: "r",
    accepted: n - dup,
    duplicates: dup,
    events: Array.from({ length: n }, (_, i) => ({ index: i, status: i < dup ? "duplicate" : "recorded" })),
  });

describe("sendEvents", () => {
  const base = {
    baseUrl: "http://api.test/",
    workspaceId: "ws_1",
    siteId: "site_1",
    cookie: "fse.sid=abc",
    random: () => 0,
  };

  it("posts each batch as JSON with the cookie and sums the statuses", async () => {
    const plan = plan_(Array.from({ length: 120 }, (_, i) => ev(i)));
    const server = fakeServer([accepted(50, 2), accepted(50), accepted(20)]);
    const progress: string[] = [];
    const summary = await sendEvents({
      ...base,
      batches: plan.batches,
      fetch: server.fetch,
      onBatch: (p) => progress.push(`${p.done}/${p.total} ${p.recorded} ${p.duplicates}`),
    });
    expect(summary).toMatchObject({
      ok: true,
      total: 120,
      sent: 120,
      recorded: 118,
      duplicates: 2,
      rejected: 0,
      batches: 3,
      retries: 0,
    });
    expect(progress).toEqual(["50/120 48 2", "100/120 98 2", "120/120 118 2"]);
    const first = server.calls[0]!;
    expect(first.url).toBe("http://api.test/api/tracking/server-events?workspaceId=ws_1");
    expect(first.init.headers).toMatchObject({ "content-type": "application/json", cookie: "fse.sid=abc" });
    expect(first.body.siteId).toBe("site_1");
    expect(first.body.events).toHaveLength(50);
    expect(first.body.events[0]!.messageId).toBe(plan.batches[0]![0]!.event.messageId);
  });

  it("waits as Retry-After says on 429 and 503, backs off on a 500, then resumes with the same batch", async () => {
    const plan = plan_([ev(1), ev(2)], 1);
    const server = fakeServer([
      accepted(1),
      json(429, { message: "slow down" }, { "retry-after": "7" }),
      json(503, { message: "busy" }, { "retry-after": "2" }),
      json(500, { message: "oops" }),
      accepted(1),
    ]);
    const slept: number[] = [];
    const retries: string[] = [];
    const summary = await sendEvents({
      ...base,
      batches: plan.batches,
      fetch: server.fetch,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
      onRetry: (r) => retries.push(`${r.batch}:${r.attempt}:${r.reason}`),
    });
    expect(summary).toMatchObject({ ok: true, sent: 2, recorded: 2, retries: 3 });
    expect(slept).toEqual([7000, 2000, 2000]);
    expect(retries).toEqual(["1:1:HTTP 429", "1:2:HTTP 503", "1:3:HTTP 500"]);
    const second = plan.batches[1]![0]!.event.messageId;
    expect(server.calls.slice(1).map((c) => c.body.events[0]!.messageId)).toEqual(Array(4).fill(second));
  });

  it("gives up after the bounded number of retries, naming the lines of the batch", async () => {
    const server = fakeServer(Array<() => Response>(3).fill(json(503, { message: "down" })));
    const summary = await sendEvents({
      ...base,
      batches: plan_(["", ev(1), ev(2)]).batches,
      fetch: server.fetch,
      retry: { maxRetries: 2 },
      sleep: async () => {},
    });
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatchObject({ status: 503, lines: { first: 2, last: 3 } });
    expect(summary.error!.message).toContain("gave up after 2 retries");
    expect(server.calls).toHaveLength(3);
  });

  it("stops rather than wait longer than allowed", async () => {
    const server = fakeServer([json(429, { message: "Rate limit exceeded" }, { "retry-after": "3600" })]);
    const summary = await sendEvents({
      ...base,
      batches: plan_([ev(1)]).batches,
      fetch: server.fetch,
      retry: { maxWaitMs: 60_000 },
      sleep: async () => {},
    });
    expect(summary.error!.message).toMatch(/wait 3600 s, over the 60 s allowed/);
  });

  it("stops at a 400 with the batch's line range and the issues mapped to file lines", async () => {
    const plan = plan_(["", ...Array.from({ length: 60 }, (_, i) => ev(i))]);
    const body = {
      message: "Invalid input",
      code: "BAD_REQUEST",
      data: {
        reason: "VALIDATION_FAILED",
        requestId: "req_9",
        issues: [{ path: ["events", 7, "props"], code: "too_big", message: "props over 8 KB" }],
      },
    };
    const server = fakeServer([accepted(50), json(400, body)]);
    const summary = await sendEvents({ ...base, batches: plan.batches, fetch: server.fetch });
    expect(summary).toMatchObject({ ok: false, sent: 50 });
    expect(summary.error).toMatchObject({
      status: 400,
      batch: 1,
      lines: { first: 52, last: 61 },
      reason: "VALIDATION_FAILED",
      requestId: "req_9",
      issues: [{ line: 59, path: ["events", 7, "props"] }],
    });
  });

  it("with skipInvalid, drops the events a 400 names and sends the rest of the batch", async () => {
    const plan = plan_(Array.from({ length: 5 }, (_, i) => ev(i)));
    const issues = [
      { path: ["events", 1, "visitorId"], message: "taken" },
      { path: ["events", 3], message: "nope" },
    ];
    const server = fakeServer([json(400, { message: "Invalid", data: { issues } }), accepted(3)]);
    const rejected: number[] = [];
    const summary = await sendEvents({
      ...base,
      batches: plan.batches,
      fetch: server.fetch,
      skipInvalid: true,
      onRejects: (r) => rejected.push(...r.map((x) => x.line)),
    });
    expect(summary).toMatchObject({ ok: true, sent: 3, recorded: 3, rejected: 2, done: 5 });
    expect(rejected).toEqual([2, 4]);
    expect(server.calls[1]!.body.events.map((e) => e.visitorId)).toEqual(["v_0", "v_2", "v_4"]);
  });

  it("with skipInvalid, still stops at a 403 (every batch would be refused alike)", async () => {
    const server = fakeServer([
      json(403, {
        message: "siteId is not a site of this workspace",
        data: { issues: [{ path: ["siteId"], message: "no" }] },
      }),
    ]);
    const summary = await sendEvents({
      ...base,
      batches: plan_([ev(1)]).batches,
      fetch: server.fetch,
      skipInvalid: true,
    });
    expect(summary).toMatchObject({ ok: false, error: { status: 403, lines: { first: 1, last: 1 } } });
  });

  it("retries network errors with jittered exponential backoff", async () => {
    let calls = 0;
    const fetch = (() =>
      calls++ < 2
        ? Promise.reject(new TypeError("fetch failed"))
        : Promise.resolve(accepted(1)())) as unknown as typeof globalThis.fetch;
    const slept: number[] = [];
    const summary = await sendEvents({
      ...base,
      batches: plan_([ev(1)]).batches,
      fetch,
      random: () => 1,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(summary).toMatchObject({ ok: true, retries: 2 });
    expect(slept).toEqual([1000, 2000]);
  });
});

describe("progress", () => {
  const counts = (done: number, extra: Partial<TSendCounts> = {}): TSendCounts => ({
    total: 1000,
    done,
    sent: done,
    recorded: done,
    duplicates: 0,
    rejected: 0,
    retries: 0,
    ...extra,
  });

  it("formats done/total, rate, ETA and counts", () => {
    expect(formatProgress(counts(250, { duplicates: 10, recorded: 240, retries: 1 }), 5000)).toBe(
      "250/1,000 events (25%) · 50 ev/s · ETA 15 s · recorded 240, duplicates 10, rejected 0, retried 1",
    );
    expect(formatProgress(counts(1000), 4000)).toContain("(100%) · 250 ev/s · done");
    expect(formatProgress(counts(0), 0)).toContain("ETA …");
    expect([59_000, 125_000, 3_780_000].map(formatDuration)).toEqual(["59 s", "2 min 5 s", "1 h 3 min"]);
  });

  it("redraws one line in place on a terminal, throttled, always drawing the last", () => {
    let clock = 0;
    const out = { text: "", isTTY: true, write: (s: string) => void (out.text += s) };
    const reporter = createProgressReporter(out, { redrawMs: 100, now: () => clock });
    clock = 1000;
    reporter.update(counts(100));
    clock = 1050;
    reporter.update(counts(200));
    reporter.note("batch 3: HTTP 503; retry 1 in 1.0 s");
    clock = 2000;
    reporter.update(counts(1000));
    reporter.end();
    const frames = out.text.split("\r").filter(Boolean);
    // eslint-disable-next-line no-control-regex -- the reporter's line ends with the terminal's erase-line escape.
    expect(frames[0]).toMatch(/^100\/1,000 events .*\x1b\[K$/);
    expect(out.text).not.toContain("200/1,000");
    expect(out.text).toContain("\r\x1b[Kbatch 3: HTTP 503; retry 1 in 1.0 s\n100/1,000");
    expect(
      out.text.endsWith(
        "1,000/1,000 events (100%) · 500 ev/s · done · recorded 1,000, duplicates 0, rejected 0, retried 0\x1b[K\n",
      ),
    ).toBe(true);
  });

  it("prints plain lines at an interval when not a terminal", () => {
    let clock = 0;
    const out = { text: "", write: (s: string) => void (out.text += s) };
    const reporter = createProgressReporter(out, { intervalMs: 5000, now: () => clock });
    for (const done of [100, 200, 300, 1000]) {
      clock += 3000;
      reporter.update(counts(done));
    }
    reporter.end();
    expect(out.text).not.toContain("\r");
    expect(
      out.text
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]),
    ).toEqual(["100/1,000", "300/1,000", "1,000/1,000"]);
  });

  it("summarises recorded, duplicates, rejected (local and server), retried and seconds", () => {
    const summary = {
      ...counts(990, { recorded: 900, duplicates: 90, rejected: 2, retries: 4 }),
      ok: true,
      batches: 20,
      elapsedMs: 12_345,
    };
    expect(formatSummary(summary, 3)).toBe("done: recorded 900, duplicates 90, rejected 5, retried 4, in 12.3 s");
  });
});

describe("runSendEvents (the CLI as a function)", () => {
  const sink = () => {
    const out = { text: "", write: (s: string) => void (out.text += s) };
    return out;
  };
  const args = ["--file", "e.ndjson", "--workspace", "ws_1", "--site", "site_1"];
  const loginResponse = () =>
    new Response(JSON.stringify({ id: "usr_1" }), {
      status: 200,
      headers: [["set-cookie", "fse.sid=s%3Axyz; Path=/; HttpOnly"]],
    });
  const loggedOut = json(200, { ok: true });
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "send-events-"))));
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("logs in, sends, logs out; progress on stderr and a JSON summary on stdout with --json", async () => {
    const server = fakeServer([loginResponse, accepted(2), loggedOut]);
    const stdout = sink();
    const stderr = sink();
    const code = await runSendEvents([...args, "--email", "a@b.c", "--password", "pw", "--json"], {
      stdout,
      stderr,
      fetch: server.fetch,
      readFile: () => Promise.resolve(`${ev(1)}\n\n${ev(2)}\n`),
    });
    expect(code).toBe(0);
    expect(server.calls.map((c) => c.url.replace(/\?.*/, ""))).toEqual([
      "http://localhost:3000/api/auth/login",
      "http://localhost:3000/api/tracking/server-events",
      "http://localhost:3000/api/auth/logout",
    ]);
    expect(server.calls[0]!.body).toEqual({ email: "a@b.c", password: "pw" });
    expect(server.calls[1]!.init.headers).toMatchObject({ cookie: "fse.sid=s%3Axyz" });
    expect(server.calls[2]!.init.headers).toMatchObject({ cookie: "fse.sid=s%3Axyz" });
    expect(stderr.text).toContain("2/2 events (100%)");
    expect(JSON.parse(stdout.text)).toMatchObject({
      ok: true,
      dryRun: false,
      lines: 2,
      valid: 2,
      rejected: 0,
      sent: 2,
      recorded: 2,
      duplicates: 0,
      retried: 0,
      batches: 1,
    });
  });

  it.each([
    ["--password -", ["--password", "-"], {}, { readStdin: () => Promise.resolve("from stdin\n") }],
    ["FSE_PASSWORD", [], { FSE_PASSWORD: "from env" }, {}],
  ])("takes the password from %s", async (_label, extra, env, io) => {
    const server = fakeServer([loginResponse, accepted(1), loggedOut]);
    const code = await runSendEvents([...args, "--email", "a@b.c", ...extra], {
      stdout: sink(),
      stderr: sink(),
      env,
      fetch: server.fetch,
      readFile: () => Promise.resolve(ev(1)),
      ...io,
    });
    expect(code).toBe(0);
    expect(server.calls[0]!.body.password).toBe(extra.length ? "from stdin" : "from env");
  });

  it("lists every bad line and sends nothing by default (exit 2), writing the rejects file", async () => {
    const server = fakeServer([]);
    const stderr = sink();
    const rejects = join(dir, "rejects-default.ndjson");
    const file = [ev(1), "{oops", ev(2, { props: [] }), ev(3)].join("\n");
    const code = await runSendEvents([...args, "--cookie", "fse.sid=x", "--rejects", rejects], {
      stdout: sink(),
      stderr,
      fetch: server.fetch,
      readFile: () => Promise.resolve(file),
    });
    expect(code).toBe(2);
    expect(stderr.text).toContain("2 of 4 line(s) are invalid");
    expect(stderr.text).toContain("line 2: not valid JSON");
    expect(stderr.text).toMatch(/line 3: props: /);
    expect(stderr.text).toContain("--skip-invalid sends the 2 valid line(s)");
    expect(server.calls).toHaveLength(0);
    const written = (await readFile(rejects, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { line: number; reason: string; original: string });
    expect(written.map((r) => [r.line, r.reason, r.original])).toEqual([
      [2, "MALFORMED_JSON", "{oops"],
      [3, "VALIDATION_FAILED", ev(2, { props: [] })],
    ]);
  });

  it("--dry-run validates without logging in or sending", async () => {
    const server = fakeServer([]);
    const stdout = sink();
    const code = await runSendEvents(["--file", "e.ndjson", "--dry-run", "--json"], {
      stdout,
      stderr: sink(),
      fetch: server.fetch,
      readFile: () => Promise.resolve(`${ev(1)}\n${ev(2, { bad: 1 })}`),
    });
    expect(code).toBe(2);
    expect(server.calls).toHaveLength(0);
    expect(JSON.parse(stdout.text)).toMatchObject({
      ok: false,
      dryRun: true,
      lines: 2,
      valid: 1,
      rejected: 1,
      sent: 0,
    });
    const clean = sink();
    expect(
      await runSendEvents(["--file", "e.ndjson", "--dry-run"], {
        stdout: clean,
        stderr: sink(),
        fetch: server.fetch,
        readFile: () => Promise.resolve(ev(1)),
      }),
    ).toBe(0);
    expect(clean.text).toBe("dry run: 1 valid line(s), 0 invalid\n");
  });

  it("exits 1 with the server's message, the lines of the batch and the issues on a 4xx", async () => {
    const server = fakeServer([
      json(403, {
        message: "siteId is not a site of this workspace",
        code: "FORBIDDEN",
        data: { issues: [{ path: ["siteId"], message: "not in workspace" }] },
      }),
    ]);
    const stderr = sink();
    const stdout = sink();
    const code = await runSendEvents([...args, "--cookie", "fse.sid=x", "--json"], {
      stdout,
      stderr,
      fetch: server.fetch,
      readFile: () => Promise.resolve(`${ev(1)}\n${ev(2)}`),
    });
    expect(code).toBe(1);
    expect(stderr.text).toContain("batch 1 (lines 1-2) refused: HTTP 403: siteId is not a site of this workspace");
    expect(stderr.text).toContain("siteId: not in workspace");
    expect(JSON.parse(stdout.text)).toMatchObject({
      ok: false,
      sent: 0,
      error: { status: 403, lines: { first: 1, last: 2 } },
    });
  });

  it("Ctrl-C (the abort signal) stops between batches, reports where, and still logs out", async () => {
    const interrupt = new AbortController();
    const server = fakeServer([loginResponse, () => (interrupt.abort(), accepted(50)()), loggedOut]);
    const stderr = sink();
    const stdout = sink();
    const argv = [...args, "--email", "a@b.c", "--password", "pw", "--json"];
    const code = await runSendEvents(argv, {
      stdout,
      stderr,
      fetch: server.fetch,
      signal: interrupt.signal,
      readFile: () => Promise.resolve(Array.from({ length: 60 }, (_, i) => ev(i)).join("\n")),
    });
    expect(code).toBe(1);
    expect(server.calls.map((c) => c.url.replace(/^.*\/api\//, "").replace(/\?.*/, ""))).toEqual([
      "auth/login",
      "tracking/server-events",
      "auth/logout",
    ]);
    expect(stderr.text).toContain("interrupted at batch 2 (lines 51-60); re-run to resume");
    expect(JSON.parse(stdout.text)).toMatchObject({ ok: false, sent: 50, error: { reason: "INTERRUPTED" } });
  });

  it("login keeps the session in a 0600 cookie file for later runs; logout ends it and deletes the file", async () => {
    const cookieFile = join(dir, "nested", "session.json");
    const server = fakeServer([loginResponse]);
    const out = sink();
    expect(
      await runSendEvents(
        ["login", "--email", "a@b.c", "--cookie-file", cookieFile, "--base-url", "http://api.test/"],
        { stdout: out, stderr: sink(), fetch: server.fetch, env: { FSE_PASSWORD: "pw" } },
      ),
    ).toBe(0);
    expect(out.text).toContain(`session kept in ${cookieFile} (mode 0600)`);
    expect((await stat(cookieFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(cookieFile, "utf8"))).toMatchObject({
      baseUrl: "http://api.test",
      cookie: "fse.sid=s%3Axyz",
      email: "a@b.c",
    });

    const run = fakeServer([accepted(1)]);
    expect(
      await runSendEvents([...args, "--cookie-file", cookieFile], {
        stdout: sink(),
        stderr: sink(),
        fetch: run.fetch,
        readFile: () => Promise.resolve(ev(1)),
      }),
    ).toBe(0);
    expect(
      run.calls.map((c) => [c.url.replace(/\?.*/, ""), (c.init.headers as Record<string, string>).cookie]),
    ).toEqual([["http://api.test/api/tracking/server-events", "fse.sid=s%3Axyz"]]);

    const mismatch = sink();
    expect(
      await runSendEvents([...args, "--cookie-file", cookieFile, "--base-url", "http://other.test"], {
        stdout: sink(),
        stderr: mismatch,
        fetch: fakeServer([]).fetch,
        readFile: () => Promise.resolve(ev(1)),
      }),
    ).toBe(2);
    expect(mismatch.text).toContain("is for http://api.test, not http://other.test");

    const logout = fakeServer([loggedOut]);
    expect(
      await runSendEvents(["logout", "--cookie-file", cookieFile], {
        stdout: sink(),
        stderr: sink(),
        fetch: logout.fetch,
      }),
    ).toBe(0);
    expect(logout.calls[0]!.url).toBe("http://api.test/api/auth/logout");
    await expect(stat(cookieFile)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("uses the default cookie file under XDG_CONFIG_HOME, and says how to log in when there is none", async () => {
    const stderr = sink();
    const env = { XDG_CONFIG_HOME: join(dir, "xdg") };
    expect(
      await runSendEvents(args, {
        stdout: sink(),
        stderr,
        env,
        fetch: fakeServer([]).fetch,
        readFile: () => Promise.resolve(ev(1)),
      }),
    ).toBe(2);
    expect(stderr.text).toBe(
      `send-events: not logged in: run "send-events login --email …" first ` +
        `(no ${join(dir, "xdg", "funnel-server-events", "session.json")}), or give --email (see --help)\n`,
    );
  });

  it("--help lists every flag and command", async () => {
    const out = sink();
    expect(await runSendEvents(["--help"], { stdout: out, stderr: sink() })).toBe(0);
    for (const flag of [
      "--file",
      "--workspace",
      "--site",
      "--base-url",
      "--dry-run",
      "--skip-invalid",
      "--rejects",
      "--json",
      "--max-retries",
      "--max-delay",
      "--max-wait",
      "--cookie",
      "--cookie-file",
      "--email",
      "--password",
      "--help",
      "FSE_PASSWORD",
      "login",
      "logout",
    ]) {
      expect(out.text).toContain(flag);
    }
  });

  it.each([
    [["--workspace", "ws_1", "--site", "s", "--cookie", "a=b"], "--file is required"],
    [["--file", "f", "--site", "s", "--cookie", "a=b"], "--workspace is required (unless --dry-run)"],
    [[...args, "--cookie", "a=b", "--email", "e"], "not both"],
    [[...args, "--password", "p"], "--password needs --email"],
    [[...args, "--email", "e"], "no password: give --password - (standard input) or set FSE_PASSWORD"],
    [
      ["--file", "-", "--workspace", "w", "--site", "s", "--email", "e", "--password", "-"],
      "cannot both read standard input",
    ],
    [[...args, "--cookie", "a=b", "--max-retries=-1"], "--max-retries must be a whole number"],
    [[...args, "--cookie", "a=b", "--max-delay", "0"], "--max-delay must be a whole number from 1"],
    [[...args, "--cookie", "a=b", "--max-retries", "-1"], "argument is ambiguous"],
    [[...args, "--cookie", "a=b", "--bogus"], "Unknown option '--bogus'"],
    [["login"], "login needs --email"],
    [["logout", "--file", "f"], "--file does not apply to logout"],
    [["fetch"], 'unknown command "fetch"'],
  ])("usage error %j → exit 2, one line", async (argv, message) => {
    const stderr = sink();
    expect(await runSendEvents(argv, { stdout: sink(), stderr, env: {}, fetch: fakeServer([]).fetch })).toBe(2);
    expect(stderr.text).toContain(message);
    expect(stderr.text.trim().split("\n")).toHaveLength(1);
  });
});
