import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uid, type TSeededWorkspace } from "../support/fixtures.ts";
import { countIngestRows } from "../support/ingest-state.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  acrossTransports,
  errorOf,
  okBody,
  TRANSPORTS,
  unchecked,
  type TRecordInput,
  type TTransport,
  type TWire,
  startWiredApp,
} from "../support/wire.ts";

let app: TTestApp;
let wire: TWire;
let seed: TSeededWorkspace;
let cookie: string;

beforeAll(async () => {
  ({ app, wire } = await startWiredApp());
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
});
afterAll(() => app?.close());

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A valid event with a fresh visitor, overridden by `over` (which may be ill-typed on purpose). */
const event = (over: Record<string, unknown> = {}) => ({ type: "signup", visitorId: `v_${uid()}`, ...over });
const request = (events: unknown[], over: Record<string, unknown> = {}) =>
  unchecked<TRecordInput>({ workspaceId: seed.workspace.id, siteId: seed.site.id, events, ...over });

/** `props` whose UTF-8 JSON is exactly `bytes` long, filled with `char` (1 or 2 bytes in UTF-8). */
function propsOfBytes(bytes: number, char: "a" | "é" = "a"): Record<string, string> {
  const overhead = Buffer.byteLength(JSON.stringify({ k: "" }), "utf8"); // {"k":""} = 8 bytes
  const unit = Buffer.byteLength(char, "utf8");
  const room = bytes - overhead;
  const props = { k: char.repeat(Math.floor(room / unit)) + "a".repeat(room % unit) };
  expect(Buffer.byteLength(JSON.stringify(props), "utf8")).toBe(bytes);
  return props;
}

/** Sends a request that must be refused with 400, and checks that nothing was written. */
async function rejected(transport: TTransport, input: TRecordInput) {
  const before = await countIngestRows(app.db.prisma, seed.workspace.id);
  const e = errorOf(await wire.record(transport, input, { cookie }));
  expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
  expect({ status: e.status, reason: e.reason }).toEqual({ status: 400, reason: "VALIDATION_FAILED" });
  return e;
}

const paths = (e: { issues: { path: (string | number)[] }[] }) => e.issues.map((i) => i.path);

describe.each(TRANSPORTS)("validation over %s", (transport) => {
  it("0 events: 400 naming events", async () => {
    const e = await rejected(transport, request([]));
    expect(paths(e)).toEqual([["events"]]);
  });

  it("51 events: 400 naming events; 50 events are recorded", async () => {
    const e = await rejected(transport, request(Array.from({ length: 51 }, () => event())));
    expect(paths(e)).toEqual([["events"]]);
    const body = okBody(await wire.record(transport, request(Array.from({ length: 50 }, () => event())), { cookie }));
    expect(body.accepted).toBe(50);
    expect(body.events.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("a missing or empty siteId: 400 naming siteId", async () => {
    expect(paths(await rejected(transport, request([event()], { siteId: "" })))).toEqual([["siteId"]]);
    expect(paths(await rejected(transport, request([event()], { siteId: undefined })))).toEqual([["siteId"]]);
  });

  it.each([
    ["an array", [1, 2]],
    ["a string", "plan=pro"],
    ["a number", 7],
    ["null", null],
  ])("props that are %s: 400 naming [events, i, props]", async (_, props) => {
    const e = await rejected(transport, request([event(), event(), event({ props })]));
    expect(paths(e)).toEqual([["events", 2, "props"]]);
  });

  it.each([
    ["ASCII", "a"],
    ["2-byte é", "é"],
  ] as const)("props of exactly 8192 bytes (%s) pass, 8193 bytes fail", async (_, char) => {
    const ok = okBody(await wire.record(transport, request([event({ props: propsOfBytes(8192, char) })]), { cookie }));
    expect(ok.accepted).toBe(1);
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: ok.events[0]!.eventId } });
    expect(Buffer.byteLength(JSON.stringify(stored.props), "utf8")).toBe(8192);

    const e = await rejected(transport, request([event(), event({ props: propsOfBytes(8193, char) })]));
    expect(paths(e)).toEqual([["events", 1, "props"]]);
  });

  it("props are measured in UTF-8 bytes, not characters: 4093 × é (8194 bytes, 4101 chars) fails", async () => {
    const props = { k: "é".repeat(4093) };
    expect(JSON.stringify(props).length).toBeLessThan(8192);
    const e = await rejected(transport, request([event({ props })]));
    expect(paths(e)).toEqual([["events", 0, "props"]]);
  });

  it("an event with no identity (no visitorId, email or userId): 400 naming the event", async () => {
    const e = await rejected(transport, request([event(), { type: "signup", path: "/x" }]));
    expect(paths(e)).toEqual([["events", 1]]);
    expect(e.issues[0]!.message).toMatch(/visitorId, email or userId/);
  });

  it("an invalid event reports every offending event and field at once", async () => {
    const e = await rejected(
      transport,
      request([event({ type: "bad type" }), event(), event({ email: "nope", props: [] })]),
    );
    expect(paths(e)).toEqual(
      expect.arrayContaining([
        ["events", 0, "type"],
        ["events", 2, "email"],
        ["events", 2, "props"],
      ]),
    );
  });
});

describe("placeholder identifiers are refused", () => {
  const PLACEHOLDERS = ["null", "undefined", "anonymous", "guest", "0", "", "   ", "NULL", "Anonymous", " guest "];
  const cases = ["visitorId", "userId", "messageId"].flatMap((field) =>
    PLACEHOLDERS.map((value) => ({ field, value, shown: JSON.stringify(value) })),
  );

  it.each(acrossTransports(cases))(
    "$transport: $field = $shown → 400 naming it",
    async ({ transport, field, value }) => {
      // A valid visitorId next to it, so the placeholder is the only problem (for visitorId: an email).
      const base = field === "visitorId" ? { type: "signup", email: `${uid()}@example.com` } : event();
      const e = await rejected(transport, request([event(), { ...base, [field]: value }]));
      expect(paths(e)).toEqual([["events", 1, field]]);
    },
  );

  it.each(acrossTransports([{ field: "visitorId" }, { field: "userId" }, { field: "messageId" }, { field: "email" }]))(
    "$transport: JSON null as $field → 400 naming it",
    async ({ transport, field }) => {
      const e = await rejected(transport, request([{ ...event({ email: `${uid()}@example.com` }), [field]: null }]));
      expect(paths(e)).toEqual([["events", 0, field]]);
    },
  );
});

describe.each(TRANSPORTS)("field rules over %s", (transport) => {
  it.each(["not-an-email", "a@", "@example.com", "a b@example.com", "user@@example.com"])(
    "invalid email %s: 400 naming email",
    async (email) => {
      const e = await rejected(transport, request([event({ email })]));
      expect(paths(e)).toEqual([["events", 0, "email"]]);
    },
  );

  it("an email is stored trimmed and lower-cased, on the event and as the EMAIL identifier", async () => {
    const local = `Mixed.Case-${uid()}`;
    const body = okBody(
      await wire.record(transport, request([{ type: "identify", email: `  ${local}@Example.COM \t` }]), { cookie }),
    );
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: body.events[0]!.eventId } });
    const expected = `${local.toLowerCase()}@example.com`;
    expect(stored.email).toBe(expected);
    const identifiers = await app.db.prisma.profileIdentifier.findMany({
      where: { profileId: body.events[0]!.profileId },
    });
    expect(identifiers.map((i) => [i.kind, i.value])).toEqual([["EMAIL", expected]]);
  });

  it.each([
    { field: "type", limit: 64, make: (n: number) => "t".repeat(n) },
    { field: "visitorId", limit: 128, make: (n: number) => `v_${uid()}`.padEnd(n, "x") },
    { field: "messageId", limit: 128, make: (n: number) => `m_${uid()}`.padEnd(n, "x") },
    { field: "path", limit: 2048, make: (n: number) => "/".padEnd(n, "p") },
    { field: "referrer", limit: 2048, make: (n: number) => "https://ref.example/".padEnd(n, "r") },
    // 64-character local part, labels of at most 63: a valid address of any length up to 254 and one over.
    {
      field: "email",
      limit: 254,
      make: (n: number) => `${"e".repeat(64)}@${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(n - 196)}.io`,
    },
  ])("$field: $limit characters pass, one more is 400 naming it", async ({ field, limit, make }) => {
    const [ok, tooLong] = [make(limit), make(limit + 1)];
    expect([ok.length, tooLong.length]).toEqual([limit, limit + 1]);
    const body = okBody(await wire.record(transport, request([event({ [field]: ok })]), { cookie }));
    expect(body.accepted).toBe(1);
    const e = await rejected(transport, request([event({ [field]: tooLong })]));
    expect(paths(e)).toEqual([["events", 0, field]]);
  });

  it("utm values over 256 characters: 400 naming the utm field", async () => {
    const e = await rejected(transport, request([event({ utm: { source: "s".repeat(257) } })]));
    expect(paths(e)).toEqual([["events", 0, "utm", "source"]]);
  });

  it.each(["sign up", "signup!", "sign/up", "inscription_é", "", "a\u0000b"])(
    "type %j: 400 naming type",
    async (type) => {
      const e = await rejected(transport, request([event({ type })]));
      expect(paths(e)).toEqual([["events", 0, "type"]]);
    },
  );

  it("type may use letters, digits and _ . : -", async () => {
    const body = okBody(
      await wire.record(transport, request([event({ type: "Stripe.invoice:paid_v2-1" })]), { cookie }),
    );
    expect(body.accepted).toBe(1);
  });

  it("a timestamp more than 1 hour in the future: 400 naming it; 59 minutes ahead is fine", async () => {
    const e = await rejected(transport, request([event(), event({ timestamp: iso(Date.now() + 61 * MINUTE) })]));
    expect(paths(e)).toEqual([["events", 1, "timestamp"]]);
    const body = okBody(
      await wire.record(transport, request([event({ timestamp: iso(Date.now() + 59 * MINUTE) })]), { cookie }),
    );
    expect(body.accepted).toBe(1);
  });

  it("with sentAt, the future is judged by the client's clock: 61 min after sentAt fails, 59 min passes", async () => {
    const sentAt = Date.now() - 3 * 60 * MINUTE;
    // Both timestamps are in the server's past; only sentAt makes the first one "the future".
    const e = await rejected(
      transport,
      request([event({ timestamp: iso(sentAt + 61 * MINUTE) })], { sentAt: iso(sentAt) }),
    );
    expect(paths(e)).toEqual([["events", 0, "timestamp"]]);
    const body = okBody(
      await wire.record(
        transport,
        request([event({ timestamp: iso(sentAt + 59 * MINUTE) })], { sentAt: iso(sentAt) }),
        { cookie },
      ),
    );
    expect(body.accepted).toBe(1);
  });

  it.each(["yesterday", "2026-13-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00", "1767225600000"])(
    "timestamp %s (not ISO 8601 with a zone): 400",
    async (timestamp) => {
      const e = await rejected(transport, request([event({ timestamp })]));
      expect(paths(e)).toEqual([["events", 0, "timestamp"]]);
    },
  );

  it("a malformed sentAt: 400 naming sentAt", async () => {
    const e = await rejected(transport, request([event()], { sentAt: "now" }));
    expect(paths(e)).toEqual([["sentAt"]]);
  });

  it("the same messageId twice in one request: 400 naming the second occurrence", async () => {
    const messageId = `m_${uid()}`;
    const e = await rejected(
      transport,
      request([event({ messageId }), event(), event({ messageId: `m_${uid()}` }), event({ messageId })]),
    );
    expect(paths(e)).toEqual([["events", 3, "messageId"]]);
    expect(e.issues[0]!.message).toMatch(/events\[0\]/);
  });

  it("an unknown event key is rejected, naming the event and the key", async () => {
    const e = await rejected(transport, request([event(), event({ userEmail: "x@example.com" })]));
    expect(paths(e)).toEqual([["events", 1]]);
    expect(e.issues[0]!.code).toBe("unrecognized_keys");
    expect(e.issues[0]!.message).toContain("userEmail");
  });

  it("an unknown utm key is rejected too", async () => {
    const e = await rejected(transport, request([event({ utm: { source: "x", id: "y" } })]));
    expect(paths(e)).toEqual([["events", 0, "utm"]]);
  });

  it.each([
    ["a value", { note: "a\u0000b" }],
    ["a nested value", { deep: { list: ["ok", "x\u0000"] } }],
    ["a key", { "k\u0000": 1 }],
  ])("a NUL character in props (%s): 400 naming props", async (_, props) => {
    const e = await rejected(transport, request([event({ props })]));
    expect(paths(e)).toEqual([["events", 0, "props"]]);
  });

  it("a NUL character in path: 400 naming path", async () => {
    const e = await rejected(transport, request([event({ path: "/a\u0000b" })]));
    expect(paths(e)).toEqual([["events", 0, "path"]]);
  });

  it("a body over the size limit (1 MB): 413 PAYLOAD_TOO_LARGE, nothing written", async () => {
    const before = await countIngestRows(app.db.prisma, seed.workspace.id);
    const e = errorOf(
      await wire.record(transport, request([event()], { padding: "x".repeat(1024 * 1024 + 1) }), { cookie }),
    );
    expect({ status: e.status, reason: e.reason }).toEqual({ status: 413, reason: "PAYLOAD_TOO_LARGE" });
    expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
  });
});

describe.each(TRANSPORTS)("text PostgreSQL cannot store, over %s", (transport) => {
  it.each([
    ["a lone high surrogate in a props value", { props: { note: "a\ud800b" } }, ["events", 0, "props"]],
    ["a lone low surrogate in a props key", { props: { ["k\udc00"]: 1 } }, ["events", 0, "props"]],
    // Stored, it would become U+FFFD: two different visitors would share one identifier.
    ["a lone surrogate in visitorId", { visitorId: "v_\ud800" }, ["events", 0, "visitorId"]],
    ["a lone surrogate in path", { path: "/\udfff" }, ["events", 0, "path"]],
  ])("%s: 400 naming the field, nothing written", async (_, over, path) => {
    const e = await rejected(transport, request([event(over)]));
    expect(paths(e)).toEqual([path]);
  });

  it("characters outside the BMP (surrogate pairs) are stored intact", async () => {
    const visitorId = `v_😀_${uid()}`;
    const body = okBody(
      await wire.record(transport, request([event({ visitorId, path: "/🚀", props: { "😀": "𝄞 clef" } })]), { cookie }),
    );
    const row = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: body.events[0]!.eventId } });
    expect({ visitorId: row.visitorId, path: row.path, props: row.props }).toEqual({
      visitorId,
      path: "/🚀",
      props: { "😀": "𝄞 clef" },
    });
  });
});
