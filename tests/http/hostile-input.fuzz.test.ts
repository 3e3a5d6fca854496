import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { uid, type TSeededWorkspace } from "../support/fixtures.ts";
import { nestedJson, rawPost } from "../support/raw-wire.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { TRANSPORTS } from "../support/wire.ts";
import { stringMatching } from "../support/matchers.ts";

/**
 * Property: whatever arrives, on either transport, the answer is never a 5xx, every 4xx is a
 * JSON error in our shape with a reason and a request id, and a refused request writes nothing.
 * `npm test` tries a few hundred payloads; `npm run fuzz` tries FUZZ_RUNS (10,000 by default).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;

beforeAll(async () => {
  app = await startTestApp({ config: { SERVER_EVENTS_RATE_LIMIT: "1000000" } });
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
}, 180_000);
afterAll(() => app?.close());

const WRITTEN_TABLES = [
  "tracking_events",
  "profiles",
  "profile_identifiers",
  "profile_events",
  "profile_funnel_links",
  "profile_merges",
];
const COUNT_EXPRESSIONS = WRITTEN_TABLES.map((t) => `(select count(*) from ${t})::text`);
const COUNT_ROWS = `select ${COUNT_EXPRESSIONS.join(" || ',' || ")} as counts`;

/** Row counts of every table the ingest path writes, in every workspace, in one round trip. */
async function rowCounts(): Promise<string> {
  const [row] = await app.db.prisma.$queryRawUnsafe<{ counts: string }[]>(COUNT_ROWS);
  return row!.counts;
}

/**
 * A URL over Node's 16 KB header limit is answered 431 by Node's HTTP parser before the app
 * sees it; query-string values are kept under that so every answer is the app's own.
 */
const MAX_QUERY_VALUE = 8_000;

/** Raw JSON text to splice in where a generated value is `RAW(i)`: what JSON.stringify cannot write. */
const RAW_TEXTS = [
  "1e400",
  "-1e400",
  nestedJson(33),
  nestedJson(40),
  nestedJson(4000),
  `${"[".repeat(50_000)}${"]".repeat(50_000)}`,
  '{"__proto__":{"x":1}}',
  '{"a":{"__proto__":1}}',
];
const raw = fc.integer({ min: 0, max: RAW_TEXTS.length - 1 }).map((i) => `\u0001RAW${i}\u0001`);

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "a\u0000b", "\ud800", "x\udc00", "null", "anonymous", "0", "💥".repeat(3)),
  fc.integer({ min: 200, max: 20_000 }).map((n) => "x".repeat(n)),
  fc.constant("x".repeat(300_000)),
);
const date = fc.oneof(
  fc
    .date({ min: new Date(-8_640_000_000_000_000), max: new Date(8_640_000_000_000_000), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }).map((skew) => new Date(Date.now() + skew).toISOString()),
  fc.constantFrom(
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2000-01-01T00:00:00Z",
    "2026-13-45T00:00:00Z",
    "yesterday",
  ),
);
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({}),
);
/** Mostly right values, sometimes hostile ones, sometimes the wrong type. */
const field = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 6, arbitrary: good },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );

const props = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.string({ unit: "binary", maxLength: 4 }), fc.oneof(hostileString, raw), { maxKeys: 3 }),
  },
  { weight: 1, arbitrary: raw },
  { weight: 1, arbitrary: wrongType },
);

const event = fc.record(
  {
    type: field(fc.constantFrom("signup", "pageview", "trial_start", "identify", "x.y:z")),
    visitorId: field(fc.constant(null).map(() => `v_${uid()}`)),
    email: field(fc.constantFrom("a@example.com", "B@Example.com ", "not-an-email")),
    userId: field(fc.constant(null).map(() => seed.owner.id)),
    path: field(fc.constantFrom("/", "/pricing?utm_source=google&utm_medium=cpc", "/?gclid=1")),
    referrer: field(fc.constantFrom("https://www.google.com/", "https://chat.openai.com/")),
    utm: fc.oneof(
      fc.record({ source: field(fc.constant("news")), medium: field(fc.constant("email")) }, { requiredKeys: [] }),
      wrongType,
    ),
    props,
    timestamp: date,
    messageId: field(fc.constant(null).map(() => `m_${uid()}`)),
    extra: fc.string(),
    constructor: fc.string(),
  },
  { requiredKeys: ["type"] },
);

const body = fc.record(
  {
    siteId: field(fc.constant(null).map(() => seed.site.id)),
    sentAt: date,
    events: fc.oneof(
      { weight: 8, arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(event, { minLength: 0, maxLength: 60 }) },
      { weight: 1, arbitrary: wrongType },
    ),
    unknown: fc.anything({ maxDepth: 2 }),
  },
  { requiredKeys: ["events"] },
);

/** A body the procedure accepts, so that accepted and refused requests interleave. */
const validBody = fc.record({
  siteId: fc.constant(null).map(() => seed.site.id),
  events: fc.array(
    fc.record(
      {
        type: fc.constantFrom("signup", "pageview", "trial_start"),
        visitorId: fc.constant(null).map(() => `v_${uid()}`),
        props: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
        timestamp: fc.integer({ min: -30 * 86_400_000, max: 0 }).map((ago) => new Date(Date.now() + ago).toISOString()),
      },
      { requiredKeys: ["type", "visitorId"] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

/** Mostly the first (ordinary) value, sometimes one of the others. */
const mostly = <T>(usual: T, ...others: T[]) =>
  fc.oneof(
    { weight: 6 * others.length, arbitrary: fc.constant(usual) },
    ...others.map((o) => ({ weight: 1, arbitrary: fc.constant(o) })),
  );

const payload = fc.record({
  transport: fc.constantFrom(...TRANSPORTS),
  route: mostly<"record" | "login">("record", "login"),
  body: fc.oneof(
    { weight: 4, arbitrary: validBody },
    { weight: 5, arbitrary: body },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  ),
  workspaceId: field(fc.constant(null).map(() => seed.workspace.id)),
  session: mostly(true, false),
  contentType: mostly(
    "application/json",
    "APPLICATION/JSON",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16le",
    "application/json; charset=latin1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
  ),
  encoding: mostly("", "identity", "gzip", "br", "deflate"),
  mangle: mostly("none", "truncate", "invalid-utf8", "empty"),
});

type TPayload = typeof payload extends fc.Arbitrary<infer T> ? T : never;

/** The bytes on the wire; tRPC carries workspaceId in the body, REST in the query string. */
function bytesOf(p: TPayload): Uint8Array {
  const scoped =
    p.transport === "trpc" && p.route === "record" && isObject(p.body)
      ? { workspaceId: p.workspaceId, ...p.body }
      : p.body;
  let text = JSON.stringify(scoped) ?? "null";
  text = text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_, i: string) => RAW_TEXTS[Number(i)]!);
  if (p.mangle === "truncate") text = text.slice(0, Math.floor(text.length / 2));
  if (p.mangle === "empty") text = "";
  let bytes: Uint8Array = Buffer.from(text, p.contentType.includes("utf-16le") ? "utf16le" : "utf8");
  if (p.mangle === "invalid-utf8") bytes = Buffer.concat([bytes, Buffer.from([0xff, 0xfe])]);
  if (p.encoding === "gzip") bytes = gzipSync(bytes);
  return bytes;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const tally = {
  tried: 0,
  accepted: 0,
  refused: 0,
  fiveHundreds: 0,
  writesByRefused: 0,
  byStatus: new Map<number, number>(),
};

it(
  `never a 5xx, errors in shape, refusals write nothing (${RUNS} payloads across both transports)`,
  { timeout: 120_000 + RUNS * 1_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        const headers: Record<string, string> = p.contentType ? { "content-type": p.contentType } : {};
        if (p.encoding) headers["content-encoding"] = p.encoding;
        const scope = typeof p.workspaceId === "string" ? p.workspaceId : JSON.stringify(p.workspaceId);
        const workspaceId =
          p.route === "record" && p.transport === "rest" ? scope.slice(0, MAX_QUERY_VALUE) : undefined;
        const before = await rowCounts();
        const answer = await rawPost(app.baseUrl, p.transport, p.route, bytesOf(p), {
          workspaceId,
          headers,
          cookie: p.session ? cookie : undefined,
        });
        const after = await rowCounts();
        tally.tried += 1;
        if (tally.tried % 500 === 0)
          console.log(`fuzz: ${tally.tried} payloads so far, ${tally.accepted} accepted, all answers below 500`);
        tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
        expect(answer.status, answer.text.slice(0, 500)).toBeLessThan(500);
        if (answer.status < 400) return void (tally.accepted += 1);
        tally.refused += 1;
        expect(after, `a ${answer.status} wrote rows`).toEqual(before);
        expect(answer.data, answer.text.slice(0, 500)).toMatchObject({
          reason: stringMatching(/^[A-Z_]+$/),
          requestId: stringMatching(/^req_/),
          httpStatus: answer.status,
        });
        expect(Array.isArray(answer.data?.issues)).toBe(true);
      }),
      { numRuns: RUNS },
    );
    console.log(
      `fuzz: ${tally.tried} payloads, ${tally.accepted} accepted, ${tally.refused} refused, 5xx: 0, ` +
        `writes by refused requests: 0; by status ${JSON.stringify(Object.fromEntries(tally.byStatus))}`,
    );
    expect(tally.tried).toBeGreaterThanOrEqual(RUNS);
    expect(tally.accepted).toBeGreaterThan(0);
  },
);
