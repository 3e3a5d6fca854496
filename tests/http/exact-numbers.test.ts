import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../server/api-keys/api-keys.ts";
import { postCollect } from "../support/collect.ts";
import { type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { countIngestRows } from "../support/ingest-state.ts";
import { rawPost } from "../support/raw-wire.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

/**
 * Props are stored exactly as sent or refused, on every door that reads a JSON body: REST, tRPC,
 * MCP over HTTP and the snippet's collect door. A number whose text the double JSON.parse makes
 * of it does not keep is a 400 naming it; the others are read back from the database unchanged.
 */

let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;
let keySecret: string;
beforeAll(async () => {
  app = await startTestApp({ config: { SERVER_EVENTS_RATE_LIMIT: "100000" } });
  seed = await app.seedWorkspace({ domain: "example.com" });
  cookie = await app.login(seed.owner.email, seed.owner.password);
  const key = await createApiKey(app.db.prisma, {
    workspaceId: seed.workspace.id,
    name: `k-${uid()}`,
    scopes: ["write:custom_events"],
    createdBy: "cli",
  });
  keySecret = key.secret;
}, 60_000);
afterAll(() => app?.close());

/** Row 4 of the findings and its kin: each was stored altered (…992, …567000, 0, 0, 0.1). */
const ALTERED = [
  ["9007199254740993", "9007199254740992"],
  ["12345678901234567890", "12345678901234567000"],
  ["-0", "0"],
  ["1e-400", "0"],
  ["0.1000000000000000055511151231257827", "0.1"],
];

/** Numbers a double keeps as written, as text: each must come back from the database with this value. */
const KEPT = { a: "9007199254740991", b: "0.1", c: "1e21", d: "-5", e: "1.50", f: "-0.25", g: "123.456e2" };
const keptProps = `{${Object.entries(KEPT)
  .map(([k, v]) => `"${k}":${v}`)
  .join(",")}}`;

type TDoor = "rest" | "trpc" | "mcp" | "collect";
const DOORS: TDoor[] = ["rest", "trpc", "mcp", "collect"];

/** Where the event sits in each door's body, so the issue's path starts there. */
const EVENT_PATH: Record<TDoor, (string | number)[]> = {
  rest: ["events", 0],
  trpc: ["events", 0],
  mcp: ["params", "arguments", "events", 0],
  collect: ["events", 0],
};

type TAnswer = { status: number; reason?: unknown; issues?: TErrorBody["data"]["issues"] };

/** One event with `props` spliced in as raw text (JSON.stringify cannot write what is tested). */
async function send(door: TDoor, visitorId: string, props: string): Promise<TAnswer> {
  const events = `[{"type":"signup","visitorId":"${visitorId}","messageId":"m_${uid()}","props":${props}}]`;
  const body = `{"siteId":"${seed.site.id}","events":${events}}`;
  if (door === "rest" || door === "trpc") {
    const answer = await rawPost(app.baseUrl, door, "record", body, { workspaceId: seed.workspace.id, cookie });
    const issues = answer.data?.issues as TAnswer["issues"];
    return { status: answer.status, reason: answer.data?.reason, issues };
  }
  const call = `"method":"tools/call","params":{"name":"write_custom_events","arguments":${body}}`;
  const rpc = `{"jsonrpc":"2.0","id":1,${call}}`;
  const res =
    door === "collect"
      ? await postCollect(app.baseUrl, { origin: "https://shop.example.com", body })
      : await fetch(`${app.baseUrl}/mcp`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            authorization: `Bearer ${keySecret}`,
          },
          body: rpc,
        });
  if (res.status === 200) return { status: 200 };
  const error = await jsonOf<TErrorBody>(res);
  return { status: res.status, reason: error.data.reason, issues: error.data.issues };
}

async function storedProps(visitorId: string) {
  const rows = await app.db.prisma.$queryRawUnsafe<{ props: string }[]>(
    "SELECT props::text AS props FROM tracking_events WHERE visitor_id = $1",
    visitorId,
  );
  return rows.map((r) => r.props);
}

/** Whether the stored props' `key` has exactly the decimal value of `text` (numeric compares exactly). */
async function storedEquals(visitorId: string, key: string, text: string): Promise<boolean> {
  const [row] = await app.db.prisma.$queryRawUnsafe<{ same: boolean }[]>(
    "SELECT (props->>$2)::numeric = $3::numeric AS same FROM tracking_events WHERE visitor_id = $1",
    visitorId,
    key,
    text,
  );
  return row!.same;
}

describe.each(DOORS)("numbers in props over %s", (door) => {
  it.each(ALTERED)("%s (a double makes it %s): 400 naming the number, nothing written", async (token, stored) => {
    const before = await countIngestRows(app.db.prisma, seed.workspace.id);
    const visitorId = `v_${uid()}`;
    const answer = await send(door, visitorId, `{"plan":"pro","id":${token}}`);
    expect({ status: answer.status, reason: answer.reason }).toEqual({ status: 400, reason: "VALIDATION_FAILED" });
    expect(answer.issues?.map((i) => [i.path, i.code])).toEqual([
      [[...EVENT_PATH[door], "props", "id"], "number_not_exact"],
    ]);
    expect(answer.issues?.[0]?.message).toContain(`stored as ${stored}`);
    expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
    expect(await storedProps(visitorId)).toEqual([]);
  });

  it("names a number deep in an array, and 1e400, by their own path", async () => {
    const nested = await send(door, `v_${uid()}`, `{"n":{"list":[1,2,9007199254740993]}}`);
    expect(nested.issues?.map((i) => i.path)).toEqual([[...EVENT_PATH[door], "props", "n", "list", 2]]);
    const huge = await send(door, `v_${uid()}`, `{"n":1e400}`);
    expect(huge.issues?.map((i) => [i.path, i.code])).toEqual([
      [[...EVENT_PATH[door], "props", "n"], "number_too_large"],
    ]);
  });

  it("records the numbers a double keeps, and reads each back from the database with the value sent", async () => {
    const visitorId = `v_${uid()}`;
    const answer = await send(door, visitorId, keptProps);
    expect(answer.status).toBe(200);
    expect(await storedProps(visitorId)).toEqual([
      '{"a": 9007199254740991, "b": 0.1, "c": 1000000000000000000000, "d": -5, "e": 1.5, "f": -0.25, "g": 12345.6}',
    ]);
    for (const [key, text] of Object.entries(KEPT)) expect(await storedEquals(visitorId, key, text), key).toBe(true);
  });
});
