import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uid, type TSeededWorkspace } from "../support/fixtures.ts";
import { countIngestRows } from "../support/ingest-state.ts";
import { nestedJson, rawPost, type TRawAnswer } from "../support/raw-wire.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  errorOf,
  okBody,
  startWiredApp,
  TRANSPORTS,
  unchecked,
  type TRecordInput,
  type TTransport,
  type TWire,
  type TWireResult,
} from "../support/wire.ts";

let app: TTestApp;
let wire: TWire;
let seed: TSeededWorkspace;
let cookie: string;

beforeAll(async () => {
  ({ app, wire } = await startWiredApp({ config: { SERVER_EVENTS_RATE_LIMIT: "100000" } }));
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
});
afterAll(() => app?.close());

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const event = (over: Record<string, unknown> = {}) => ({ type: "signup", visitorId: `v_${uid()}`, ...over });
const request = (over: Record<string, unknown> = {}, events: unknown[] = [event()]) =>
  unchecked<TRecordInput>({ workspaceId: seed.workspace.id, siteId: seed.site.id, events, ...over });
const paths = (issues: { path: (string | number)[] }[] | undefined) => (issues ?? []).map((i) => i.path);
const cursorOf = (text: string) => Buffer.from(text).toString("base64url");

/** A typed-client or REST call that must be a 400 naming `path`, having written nothing. */
async function expect400(call: () => Promise<TWireResult<unknown>>, path: (string | number)[]) {
  const before = await countIngestRows(app.db.prisma, seed.workspace.id);
  const e = errorOf(await call());
  expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
  expect({ status: e.status, reason: e.reason }).toEqual({ status: 400, reason: "VALIDATION_FAILED" });
  expect(paths(e.issues)).toContainEqual(path);
  expect(typeof e.data.requestId).toBe("string");
  return e;
}

/** A raw POST whose answer must be `status` with `reason` and a request id, having written nothing. */
async function expectRaw(send: () => Promise<TRawAnswer>, status: number, reason: string) {
  const before = await countIngestRows(app.db.prisma, seed.workspace.id);
  const answer = await send();
  expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
  expect({ status: answer.status, reason: answer.data?.reason }).toEqual({ status, reason });
  expect(answer.data?.requestId).toMatch(/^req_/);
  return answer;
}

const recordText = (props: string) =>
  `{"siteId":"${seed.site.id}","events":[{"type":"signup","visitorId":"v_${uid()}","props":${props}}]}`;

describe.each(TRANSPORTS)("NUL characters over %s: 400 naming the field", (transport: TTransport) => {
  it("in the login email", async () => {
    const answer = await expectRaw(
      () => rawPost(app.baseUrl, transport, "login", JSON.stringify({ email: "a\u0000@example.com", password: "x" })),
      400,
      "VALIDATION_FAILED",
    );
    expect(paths(answer.data?.issues)).toEqual([["email"]]);
  });

  it("in workspaceId and siteId of a write", async () => {
    await expect400(() => wire.record(transport, request({ workspaceId: "ws_\u0000" }), { cookie }), ["workspaceId"]);
    await expect400(() => wire.record(transport, request({ siteId: "site_\u0000" }), { cookie }), ["siteId"]);
  });

  it("in the lookup's visitorId and email", async () => {
    await expect400(
      () => wire.lookup(transport, { workspaceId: seed.workspace.id, visitorId: "v\u0000" }, { cookie }),
      ["visitorId"],
    );
    await expect400(
      () => wire.lookup(transport, { workspaceId: seed.workspace.id, email: "a\u0000@b.co" }, { cookie }),
      ["email"],
    );
  });

  it("in listEvents' siteId and inside a cursor", async () => {
    await expect400(
      () => wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: "s\u0000" }, { cookie }),
      ["siteId"],
    );
    const cursor = cursorOf("2026-01-01T00:00:00.000Z|evt_\u0000");
    await expect400(
      () => wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id, cursor }, { cookie }),
      ["cursor"],
    );
  });
});

describe.each(TRANSPORTS)(
  "dates PostgreSQL cannot store, and clocks that would rewrite history, over %s",
  (transport: TTransport) => {
    it.each([
      ["year 0000", "0000-01-01T00:00:00Z"],
      ["before 2000", "1999-12-31T23:59:59Z"],
      ["year 275760", "+275760-09-13T00:00:00Z"],
    ])("timestamp %s: 400 naming the event's timestamp", async (_, timestamp) => {
      await expect400(
        () => wire.record(transport, request({}, [event(), event({ timestamp })]), { cookie }),
        ["events", 1, "timestamp"],
      );
    });

    it.each([
      ["year 3000, timestamp now", 0, "3000-01-01T00:00:00Z"],
      ["year 9999, timestamp 9999", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"],
      ["2 days behind, timestamp then", -48 * HOUR, -48 * HOUR],
    ])("sentAt %s: 400 naming sentAt", async (_, timestamp, sentAt) => {
      const at = (v: string | number) => (typeof v === "string" ? v : iso(Date.now() + v));
      await expect400(
        () =>
          wire.record(transport, request({ sentAt: at(sentAt) }, [event({ timestamp: at(timestamp) })]), { cookie }),
        ["sentAt"],
      );
    });

    it("a sentAt correction that lands before 2000 is refused; one within the window is recorded", async () => {
      const now = Date.now();
      await expect400(
        () =>
          wire.record(transport, request({ sentAt: iso(now) }, [event({ timestamp: "1990-01-01T00:00:00Z" })]), {
            cookie,
          }),
        ["events", 0, "timestamp"],
      );
      const ok = okBody(
        await wire.record(
          transport,
          request({ sentAt: iso(now - 2 * HOUR) }, [event({ timestamp: iso(now - 3 * HOUR) })]),
          { cookie },
        ),
      );
      const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: ok.events[0]!.eventId } });
      expect(Math.abs(stored.occurredAt.getTime() - (now - HOUR))).toBeLessThan(5 * 60_000);
    });

    it("2000-01-01T00:00:00Z, the first instant of the window, is recorded", async () => {
      okBody(await wire.record(transport, request({}, [event({ timestamp: "2000-01-01T00:00:00Z" })]), { cookie }));
    });

    it.each([
      ["year 0000", "0000-01-01T00:00:00.000Z|evt_0000000000aaaaaaaaaaaaaaaa"],
      ["an unparsable date", "2026-13-45T99:00:00.000Z|evt_0000000000aaaaaaaaaaaaaaaa"],
      ["no id", "2026-01-01T00:00:00.000Z|"],
      ["a quote in the id", "2026-01-01T00:00:00.000Z|evt_'"],
      ["not base64url", "!!!"],
    ])("a forged cursor with %s: 400 naming cursor on listEvents and get", async (_, text) => {
      const cursor = text === "!!!" ? text : cursorOf(text);
      await expect400(
        () => wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id, cursor }, { cookie }),
        ["cursor"],
      );
      await expect400(
        () => wire.getProfile(transport, { workspaceId: seed.workspace.id, profileId: "prf_x", cursor }, { cookie }),
        ["cursor"],
      );
    });

    it("a cursor this API returned still pages", async () => {
      for (let i = 0; i < 3; i++) okBody(await wire.record(transport, request(), { cookie }));
      const first = okBody(
        await wire.listEvents(
          transport,
          { workspaceId: seed.workspace.id, siteId: seed.site.id, limit: 2 },
          { cookie },
        ),
      );
      expect(first.nextCursor).not.toBeNull();
      const second = okBody(
        await wire.listEvents(
          transport,
          { workspaceId: seed.workspace.id, siteId: seed.site.id, limit: 2, cursor: first.nextCursor! },
          { cookie },
        ),
      );
      expect(second.items[0]!.id).not.toBe(first.items[1]!.id);
    });
  },
);

describe.each(TRANSPORTS)("deep and lossy props over %s", (transport: TTransport) => {
  it("props 200,000 levels deep (400 KB, under the body limit): 400 naming props, session or not", async () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    for (const session of [undefined, cookie]) {
      const answer = await expectRaw(
        () =>
          rawPost(app.baseUrl, transport, "record", recordText(deep), {
            workspaceId: seed.workspace.id,
            cookie: session,
          }),
        400,
        "VALIDATION_FAILED",
      );
      expect(paths(answer.data?.issues)).toEqual([["events", 0, "props"]]);
    }
  });

  it("props 4,000 deep get the same 400 every time", async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await expectRaw(
          () =>
            rawPost(app.baseUrl, transport, "record", recordText(nestedJson(4000)), {
              workspaceId: seed.workspace.id,
              cookie,
            }),
          400,
          "VALIDATION_FAILED",
        ),
      );
    }
    expect(new Set(answers.map((a) => JSON.stringify(paths(a.data?.issues))))).toEqual(
      new Set([JSON.stringify([["events", 0, "props"]])]),
    );
  });

  it("props 32 levels deep are recorded as sent; 33 levels are a 400 naming props", async () => {
    const ok = await rawPost(app.baseUrl, transport, "record", recordText(nestedJson(32)), {
      workspaceId: seed.workspace.id,
      cookie,
    });
    expect(ok.status).toBe(200);
    const answer = await expectRaw(
      () =>
        rawPost(app.baseUrl, transport, "record", recordText(nestedJson(33)), {
          workspaceId: seed.workspace.id,
          cookie,
        }),
      400,
      "VALIDATION_FAILED",
    );
    expect(paths(answer.data?.issues)).toEqual([["events", 0, "props"]]);
    expect(answer.data?.issues?.[0]?.message).toMatch(/deeper than 32 levels/);
  });

  it.each([
    ["a __proto__ key", '{"plan":"pro","__proto__":{"admin":true}}', []],
    ["a nested __proto__ key", '{"a":{"\\u005f_proto__":1}}', []],
    // A number's issue names the number itself.
    ["1e400", '{"n":1e400}', ["n"]],
    ["-1e400 in an array", '{"n":[1,-1e400]}', ["n", 1]],
  ])("props with %s: 400 naming props, nothing written", async (_, props, under) => {
    const answer = await expectRaw(
      () => rawPost(app.baseUrl, transport, "record", recordText(props), { workspaceId: seed.workspace.id, cookie }),
      400,
      "VALIDATION_FAILED",
    );
    expect(paths(answer.data?.issues)).toEqual([["events", 0, "props", ...under]]);
  });

  it("an unknown key at the top of the body is a 400 naming it, as in an event", async () => {
    await expect400(() => wire.record(transport, request({ extra: 1 }), { cookie }), []);
    const e = await expect400(
      () => wire.record(transport, request({}, [event({ extra: 1 })]), { cookie }),
      ["events", 0],
    );
    expect(e.issues[0]!.message).toMatch(/extra/);
  });
});

describe.each(TRANSPORTS)("how a body is sent, over %s: one behaviour for both transports", (transport: TTransport) => {
  const body = () => `{"siteId":"${seed.site.id}","events":[{"type":"signup","visitorId":"v_${uid()}"}]}`;
  const send = (payload: string | Uint8Array, headers: Record<string, string>) => () =>
    rawPost(app.baseUrl, transport, "record", payload, { workspaceId: seed.workspace.id, cookie, headers });

  it.each(["gzip", "deflate", "br"])("Content-Encoding %s: 415 naming it", async (encoding) => {
    const answer = await expectRaw(
      send(gzipSync(body()), { "content-encoding": encoding }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expect(paths(answer.data?.issues)).toEqual([["content-encoding"]]);
  });

  it.each(["utf-16le", "latin1", "ISO-8859-1"])("charset=%s: 415 naming the charset", async (charset) => {
    const text = body();
    const bytes = charset === "utf-16le" ? Buffer.from(text, "utf16le") : Buffer.from(text, "latin1");
    const answer = await expectRaw(
      send(bytes, { "content-type": `application/json; charset=${charset}` }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expect(JSON.stringify(answer.data?.issues)).toContain(charset);
  });

  it.each(["APPLICATION/JSON", "Application/Json; Charset=UTF-8", "application/json;charset=utf-8"])(
    "Content-Type %s is JSON: 200",
    async (type) => {
      const answer = await send(body(), { "content-type": type })();
      expect(answer.status).toBe(200);
    },
  );

  it("bytes that are not UTF-8: 400 MALFORMED_JSON", async () => {
    await expectRaw(send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), {}), 400, "MALFORMED_JSON");
  });
});
