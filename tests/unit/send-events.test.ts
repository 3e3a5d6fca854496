import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, deriveMessageId, EventsFileError, planBatches, splitLines } from "../../client/event-batches.ts";
import { parseRetryAfter, sendEvents } from "../../client/event-sender.ts";
import { runSendEvents } from "../../client/send-events-cli.ts";

const ev = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ type: "pageview", visitorId: `v_${i}`, path: `/p/${i}`, ...extra });
const idsOf = (plan: ReturnType<typeof planBatches>) => plan.batches.flat().map((p) => p.event.messageId);

describe("planBatches: parsing", () => {
  it("skips blank lines and keeps file line numbers", () => {
    const plan = planBatches(["", ev(1), "   ", ev(2), ""]);
    expect(plan.total).toBe(2);
    expect(plan.batches[0]!.map((p) => p.line)).toEqual([2, 4]);
    expect(plan.batches[0]![0]!.event).toMatchObject({ type: "pageview", visitorId: "v_1" });
  });

  it("reports every malformed line with its number and plans nothing", () => {
    const lines = [ev(1), "{not json", ev(2), "[1,2]", "42", "null", '{"type":"x","visitorId":"v","messageId":""}'];
    const error = (() => {
      try {
        planBatches(lines);
      } catch (e) {
        return e;
      }
    })() as EventsFileError;
    expect(error).toBeInstanceOf(EventsFileError);
    expect(error.problems.map((p) => p.line)).toEqual([2, 4, 5, 6, 7]);
    expect(error.message).toContain("line 2: not valid JSON");
    expect(error.message).toContain("nothing was sent");
  });

  it("refuses a messageId used twice in the file", () => {
    expect(() => planBatches([ev(1, { messageId: "m1" }), ev(2, { messageId: "m1" })])).toThrow(/line 2: messageId "m1" is already used on line 1/);
  });

  it("splits CRLF files and drops a byte-order mark", () => {
    expect(splitLines(`\uFEFF${ev(1)}\r\n${ev(2)}\r\n`)).toEqual([ev(1), ev(2), ""]);
  });
});

describe("planBatches: messageId", () => {
  it("keeps a messageId given on the line", () => {
    expect(idsOf(planBatches([ev(1, { messageId: "order-17" })]))).toEqual(["order-17"]);
  });

  it("derives the same id whatever the key order, whitespace or position in the file", () => {
    const a = planBatches(['{"type":"signup","visitorId":"v1","props":{"a":1,"b":[1,{"y":2,"x":1}]}}']);
    const b = planBatches([ev(9), "", '  { "props": { "b": [1, { "x": 1, "y": 2 }], "a": 1 }, "visitorId": "v1", "type": "signup" }  ']);
    expect(idsOf(b)[1]).toBe(idsOf(a)[0]);
    expect(idsOf(a)[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("numbers identical events by occurrence, so repeats are distinct and stable", () => {
    const same = ev(1);
    const ids = idsOf(planBatches([same, ev(2), same, same]));
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]).toBe(deriveMessageId(JSON.parse(same), 0));
    expect(ids[2]).toBe(deriveMessageId(JSON.parse(same), 1));
    expect(ids[3]).toBe(deriveMessageId(JSON.parse(same), 2));
  });

  it("a re-run of an edited file re-derives the ids of the unchanged lines", () => {
    const original = Array.from({ length: 120 }, (_, i) => ev(i));
    const edited = [ev(1000), ...original.slice(0, 60), ev(1001), "", ...original.slice(60)];
    const before = new Set(idsOf(planBatches(original)));
    const after = idsOf(planBatches(edited));
    expect(after.filter((id) => before.has(id))).toHaveLength(120);
    expect(after.filter((id) => !before.has(id))).toHaveLength(2);
  });

  it("property: reordering the lines never changes an event's id", () => {
    const lines = fc.array(fc.record({ type: fc.constantFrom("pageview", "signup"), visitorId: fc.constantFrom("v1", "v2", "v3") }), { maxLength: 30 });
    fc.assert(
      fc.property(
        lines.chain((ls) => fc.tuple(fc.constant(ls), fc.shuffledSubarray(ls, { minLength: ls.length, maxLength: ls.length }))),
        ([original, shuffled]) => {
          // Identical events are interchangeable: compare the multiset of (event, id) pairs.
          const pairs = (events: object[]) => planBatches(events.map((e) => JSON.stringify(e))).batches.flat().map((p) => canonicalJson(p.event)).sort();
          expect(pairs(shuffled)).toEqual(pairs(original));
        },
      ),
    );
  });

  it("canonical JSON sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });
});

describe("planBatches: batching", () => {
  it.each([
    [0, []],
    [1, [1]],
    [50, [50]],
    [51, [50, 1]],
    [1000, Array(20).fill(50)],
    [1001, [...Array(20).fill(50), 1]],
  ])("%i events → batches of %j", (n, sizes) => {
    const plan = planBatches(Array.from({ length: n }, (_, i) => ev(i)));
    expect(plan.total).toBe(n);
    expect(plan.batches.map((b) => b.length)).toEqual(sizes);
  });

  it("keeps file order across batches", () => {
    const plan = planBatches(Array.from({ length: 75 }, (_, i) => ev(i)));
    expect(plan.batches.flat().map((p) => p.line)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
  });
});

/** A scripted server: answers each call with the next response and records the requests. */
function fakeServer(responses: (() => Response)[]) {
  const calls: { url: string; init: RequestInit; body: { siteId: string; sentAt: string; events: { messageId: string }[] } }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init, body: JSON.parse(String(init.body)) });
    const next = responses.shift();
    if (!next) throw new Error("unexpected request");
    return next();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const accepted = (n: number, dup = 0) =>
  json(200, { requestId: "r", accepted: n - dup, duplicates: dup, events: Array.from({ length: n }, (_, i) => ({ index: i, status: i < dup ? "duplicate" : "recorded" })) });

describe("sendEvents", () => {
  const base = { baseUrl: "http://api.test/", workspaceId: "ws_1", siteId: "site_1", cookie: "fse.sid=abc" };

  it("posts each batch as JSON with the cookie and sums the statuses", async () => {
    const plan = planBatches(Array.from({ length: 120 }, (_, i) => ev(i)));
    const server = fakeServer([accepted(50, 2), accepted(50), accepted(20)]);
    const progress: string[] = [];
    const summary = await sendEvents({ ...base, plan, fetch: server.fetch, onProgress: (p) => progress.push(`${p.sent}/${p.total} ${p.recorded} ${p.duplicates}`) });
    expect(summary).toMatchObject({ ok: true, total: 120, sent: 120, recorded: 118, duplicates: 2, batches: 3, retries: 0 });
    expect(progress).toEqual(["50/120 48 2", "100/120 98 2", "120/120 118 2"]);
    const first = server.calls[0]!;
    expect(first.url).toBe("http://api.test/api/tracking/server-events?workspaceId=ws_1");
    expect(first.init.headers).toMatchObject({ "content-type": "application/json", cookie: "fse.sid=abc" });
    expect(first.body.siteId).toBe("site_1");
    expect(first.body.events).toHaveLength(50);
    expect(first.body.events[0]!.messageId).toBe(plan.batches[0]![0]!.event.messageId);
  });

  it("waits as long as Retry-After says on 429 and 503, then retries the same batch", async () => {
    const plan = planBatches([ev(1)]);
    const server = fakeServer([json(429, { message: "slow down" }, { "retry-after": "7" }), json(503, { message: "busy" }, { "retry-after": "2" }), accepted(1)]);
    const slept: number[] = [];
    const summary = await sendEvents({ ...base, plan, fetch: server.fetch, sleep: async (ms) => void slept.push(ms) });
    expect(summary).toMatchObject({ ok: true, sent: 1, retries: 2 });
    expect(slept).toEqual([7000, 2000]);
    expect(server.calls.map((c) => c.body.events[0]!.messageId)).toEqual(Array(3).fill(plan.batches[0]![0]!.event.messageId));
  });

  it("gives up after the bounded number of retries", async () => {
    const server = fakeServer(Array(3).fill(json(503, { message: "down" }, { "retry-after": "1" })));
    const summary = await sendEvents({ ...base, plan: planBatches([ev(1)]), fetch: server.fetch, maxRetries: 2, sleep: async () => {} });
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatchObject({ status: 503 });
    expect(summary.error!.message).toContain("gave up after 2 retries");
    expect(server.calls).toHaveLength(3);
  });

  it("stops rather than wait longer than allowed", async () => {
    const server = fakeServer([json(429, { message: "Rate limit exceeded" }, { "retry-after": "3600" })]);
    const summary = await sendEvents({ ...base, plan: planBatches([ev(1)]), fetch: server.fetch, maxWaitSeconds: 60, sleep: async () => {} });
    expect(summary.error!.message).toMatch(/wait 3600 s, over the 60 s allowed/);
  });

  it("stops at a 400 and maps the issues back to file lines", async () => {
    const plan = planBatches(["", ...Array.from({ length: 60 }, (_, i) => ev(i))]);
    const body = { message: "Invalid input", code: "BAD_REQUEST", data: { reason: "VALIDATION_FAILED", requestId: "req_9", issues: [{ path: ["events", 7, "props"], code: "too_big", message: "props over 8 KB" }] } };
    const server = fakeServer([accepted(50), json(400, body)]);
    const summary = await sendEvents({ ...base, plan, fetch: server.fetch });
    expect(summary).toMatchObject({ ok: false, sent: 50 });
    expect(summary.error).toMatchObject({ status: 400, batch: 1, reason: "VALIDATION_FAILED", requestId: "req_9", issues: [{ line: 59, path: ["events", 7, "props"] }] });
  });

  it("retries network errors with backoff", async () => {
    let calls = 0;
    const fetch = (async () => {
      if (calls++ === 0) throw new TypeError("fetch failed");
      return accepted(1)();
    }) as unknown as typeof globalThis.fetch;
    const slept: number[] = [];
    const summary = await sendEvents({ ...base, plan: planBatches([ev(1)]), fetch, sleep: async (ms) => void slept.push(ms) });
    expect(summary).toMatchObject({ ok: true, retries: 1 });
    expect(slept).toEqual([1000]);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2030-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Tue, 01 Jan 2030 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
});

describe("runSendEvents (the CLI as a function)", () => {
  const sink = () => {
    const out = { text: "", write: (s: string) => void (out.text += s) };
    return out;
  };
  const args = ["--file", "e.ndjson", "--workspace", "ws_1", "--site", "site_1"];

  it("logs in, sends, prints progress on stderr and a JSON summary on stdout", async () => {
    const login = () => new Response(JSON.stringify({ id: "usr_1" }), { status: 200, headers: [["set-cookie", "fse.sid=s%3Axyz; Path=/; HttpOnly"]] });
    const server = fakeServer([login, accepted(2)]);
    const stdout = sink();
    const stderr = sink();
    const code = await runSendEvents([...args, "--email", "a@b.c", "--password", "pw"], { stdout, stderr, fetch: server.fetch, readFile: async () => `${ev(1)}\n\n${ev(2)}\n` });
    expect(code).toBe(0);
    expect(server.calls[0]!.url).toBe("http://localhost:3000/api/auth/login");
    expect(server.calls[1]!.init.headers).toMatchObject({ cookie: "fse.sid=s%3Axyz" });
    expect(stderr.text).toContain("sent 2/2 (recorded 2, duplicates 0)");
    expect(JSON.parse(stdout.text)).toMatchObject({ ok: true, total: 2, sent: 2, recorded: 2, duplicates: 0 });
  });

  it("sends nothing when a line is malformed (exit 2)", async () => {
    const server = fakeServer([]);
    const stderr = sink();
    const code = await runSendEvents([...args, "--cookie", "fse.sid=x"], { stdout: sink(), stderr, fetch: server.fetch, readFile: async () => `${ev(1)}\n{oops\n` });
    expect(code).toBe(2);
    expect(stderr.text).toContain("line 2: not valid JSON");
    expect(server.calls).toHaveLength(0);
  });

  it("exits 1 with the server's message and issues on a 4xx", async () => {
    const server = fakeServer([json(403, { message: "siteId is not a site of this workspace", code: "FORBIDDEN", data: { issues: [{ path: ["siteId"], message: "not in workspace" }] } })]);
    const stderr = sink();
    const stdout = sink();
    const code = await runSendEvents([...args, "--cookie", "fse.sid=x"], { stdout, stderr, fetch: server.fetch, readFile: async () => ev(1) });
    expect(code).toBe(1);
    expect(stderr.text).toContain("HTTP 403: siteId is not a site of this workspace");
    expect(stderr.text).toContain("siteId: not in workspace");
    expect(JSON.parse(stdout.text)).toMatchObject({ ok: false, sent: 0 });
  });

  it.each([
    [["--workspace", "ws_1", "--site", "s", "--cookie", "a=b"], "--file is required"],
    [[...args], "give --cookie, or both --email and --password"],
    [[...args, "--cookie", "a=b", "--email", "e"], "not both"],
    [[...args, "--cookie", "a=b", "--max-retries=-1"], "--max-retries must be a whole number"],
    [[...args, "--cookie", "a=b", "--max-retries", "-1"], "argument is ambiguous"],
    [[...args, "--cookie", "a=b", "--bogus"], "Unknown option '--bogus'"],
  ])("usage error %j → exit 2", async (argv, message) => {
    const stderr = sink();
    expect(await runSendEvents(argv, { stdout: sink(), stderr, fetch: fakeServer([]).fetch })).toBe(2);
    expect(stderr.text).toContain(message);
    expect(stderr.text.trim().split("\n")).toHaveLength(1);
  });
});
