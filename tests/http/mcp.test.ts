import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey, type TApiKeyScope } from "../../server/api-keys/api-keys.ts";
import { setBrowserStageCeiling } from "../../server/workspaces/workspaces.repo.ts";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TTestApp } from "../support/test-app.ts";

const KEY_RATE_LIMIT = 8;
const FAILURES_PER_IP = 4;

let app: TTestApp;
let seed: TSeededWorkspace;
let other: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp({
    config: {
      TRUST_PROXY: "loopback",
      API_KEY_RATE_LIMIT: String(KEY_RATE_LIMIT),
      API_KEY_MAX_FAILURES_PER_IP: String(FAILURES_PER_IP),
    },
  });
  seed = await app.seedWorkspace();
  other = await app.seedWorkspace();
}, 60_000);
afterAll(() => app?.close());

let ipCounter = 0;
/** Every test speaks from an address of its own, so failure budgets per IP do not mix. */
const freshIp = () => `203.0.113.${++ipCounter}`;

async function newKey(scopes: TApiKeyScope[] = ["write:custom_events", "read:profiles"], workspace = seed) {
  return createApiKey(app.db.prisma, {
    workspaceId: workspace.workspace.id,
    name: `k-${uid()}`,
    scopes,
    createdBy: "cli",
  });
}

/** The SDK's own client over real HTTP, with the key as a bearer token. */
async function connect(secret: string, ip = freshIp()) {
  const client = new Client({ name: "test-agent", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${app.baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${secret}`, "x-forwarded-for": ip } },
  });
  await client.connect(transport);
  return client;
}

type TToolError = {
  reason: string;
  httpStatus: number;
  issues: { path: (string | number)[] }[];
  retryAfterSeconds?: number;
};
type TWritten = {
  accepted: number;
  duplicates: number;
  events: { eventId: string; profileId: string; status: string; stage: string }[];
};
type TFound = {
  profile: {
    id: string;
    identifiers: { kind: string; value: string }[];
    funnelLinks: { currentStage: string }[];
    serverEventCount: number;
  };
  timeline: { type: string }[];
};
type TRestError = { data: { reason: string } };
/** A tool result's structured content, in the shape the test expects of it. */
const bodyOf = <T = TToolError>(r: Awaited<ReturnType<Client["callTool"]>>) => r.structuredContent as T;

/** One raw JSON-RPC tools/call, to see statuses and headers the SDK client hides. */
async function rawCall(headers: Record<string, string>, name: string, args: unknown) {
  return fetch(`${app.baseUrl}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
  });
}

const eventCount = (siteId: string) => app.db.prisma.trackingEvent.count({ where: { siteId } });

describe("MCP over Streamable HTTP", () => {
  it("lists both tools with input schemas generated from the REST body's zod schema", async () => {
    const client = await connect((await newKey()).secret);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["lookup_profile", "write_custom_events"]);
    const write = tools.find((t) => t.name === "write_custom_events")!;
    const props = write.inputSchema.properties as Record<string, { maxItems?: number }>;
    expect(write.inputSchema.required).toEqual(expect.arrayContaining(["siteId", "events"]));
    expect(props.events?.maxItems).toBe(50);
    await client.close();
  });

  it("records events attributed to the key, with the customer's userId; lookup_profile reads them back", async () => {
    const key = await newKey();
    const client = await connect(key.secret);
    const visitorId = `v_${uid()}`;
    const customerId = `cust_${uid()}`;
    const written = await client.callTool({
      name: "write_custom_events",
      arguments: {
        siteId: seed.site.id,
        events: [
          { type: "visit", visitorId, path: "/pricing", timestamp: new Date(Date.now() - 120_000).toISOString() },
          { type: "signup", visitorId, userId: customerId, email: `m-${uid()}@example.com`, messageId: `m-${uid()}` },
        ],
      },
    });
    expect(written.isError).toBeFalsy();
    const result = bodyOf<TWritten>(written);
    expect(result).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(result.events.map((e) => e.status)).toEqual(["recorded", "recorded"]);
    const signup = result.events[1]!;
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: signup.eventId } });
    expect(stored.userId).toBe(customerId);
    expect(stored.recordedBy).toBe(`key:${key.id}`);

    const found = bodyOf<TFound>(await client.callTool({ name: "lookup_profile", arguments: { visitorId } }));
    expect(found.profile.id).toBe(signup.profileId);
    expect(found.profile.identifiers).toEqual(
      expect.arrayContaining([
        { kind: "VISITOR", value: visitorId },
        { kind: "USER_ID", value: customerId },
      ]),
    );
    expect(found.profile.funnelLinks[0]?.currentStage).toBe(signup.stage);
    expect(found.profile.serverEventCount).toBe(2);
    expect(found.timeline.map((t) => t.type)).toEqual(["signup", "visit"]);
    const row = await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.lastUsedAt).not.toBeNull();
    await client.close();
  });

  it("advances stages as far as the rules say: the browser door's ceiling does not bind a key", async () => {
    const site = await createTestSite(app.db.prisma, { workspaceId: seed.workspace.id, funnelId: seed.funnel.id });
    await setBrowserStageCeiling(app.db.prisma, { siteId: site.id, ceiling: "AWARENESS" });
    const client = await connect((await newKey()).secret);
    const written = await client.callTool({
      name: "write_custom_events",
      arguments: {
        siteId: site.id,
        events: [
          { type: "trial_start", visitorId: `v_${uid()}` },
          { type: "subscription_active", visitorId: `v_${uid()}` },
        ],
      },
    });
    expect(bodyOf<TWritten>(written).events.map((e) => [e.status, e.stage])).toEqual([
      ["recorded", "TRIAL"],
      ["recorded", "CUSTOMER"],
    ]);
    await client.close();
  });

  it("answers invalid input with a tool error naming the field, like REST, and writes nothing", async () => {
    const client = await connect((await newKey()).secret);
    const before = await eventCount(seed.site.id);
    const r = await client.callTool({
      name: "write_custom_events",
      arguments: { siteId: seed.site.id, events: [{ type: "visit", visitorId: "v_1" }, { type: "visit" }] },
    });
    expect(r.isError).toBe(true);
    const body = bodyOf(r);
    expect(body.reason).toBe("VALIDATION_FAILED");
    expect(body.issues.map((i) => i.path)).toContainEqual(["events", 1]);
    expect(await eventCount(seed.site.id)).toBe(before);

    const tooMany = bodyOf(
      await client.callTool({
        name: "write_custom_events",
        arguments: { siteId: seed.site.id, events: Array.from({ length: 51 }, () => ({ type: "x", visitorId: "v" })) },
      }),
    );
    expect(tooMany.issues[0]?.path).toEqual(["events"]);
    const foreignSite = bodyOf(
      await client.callTool({
        name: "write_custom_events",
        arguments: { siteId: other.site.id, events: [{ type: "visit", visitorId: "v_1" }] },
      }),
    );
    expect(foreignSite.reason).toBe("SITE_NOT_IN_WORKSPACE");
    await client.close();
  });

  it("refuses a tool outside the key's scopes with SCOPE_FORBIDDEN and writes nothing", async () => {
    const client = await connect((await newKey(["read:profiles"])).secret);
    const before = await eventCount(seed.site.id);
    const r = await client.callTool({
      name: "write_custom_events",
      arguments: { siteId: seed.site.id, events: [{ type: "visit", visitorId: `v_${uid()}` }] },
    });
    expect(r.isError).toBe(true);
    expect(bodyOf(r)).toMatchObject({ reason: "SCOPE_FORBIDDEN", httpStatus: 403 });
    expect(await eventCount(seed.site.id)).toBe(before);
    const writeOnly = await connect((await newKey(["write:custom_events"])).secret);
    const lookup = await writeOnly.callTool({ name: "lookup_profile", arguments: { visitorId: "v_1" } });
    expect(bodyOf(lookup).reason).toBe("SCOPE_FORBIDDEN");
    await Promise.all([client.close(), writeOnly.close()]);
  });

  it("refuses a revoked key on its very next request (401 API_KEY_REVOKED) and writes nothing", async () => {
    const key = await newKey();
    const ip = freshIp();
    const client = await connect(key.secret, ip);
    const args = { siteId: seed.site.id, events: [{ type: "visit", visitorId: `v_${uid()}` }] };
    expect((await client.callTool({ name: "write_custom_events", arguments: args })).isError).toBeFalsy();
    await revokeApiKey(app.db.prisma, { workspaceId: seed.workspace.id, keyId: key.id });
    const before = await eventCount(seed.site.id);
    await expect(client.callTool({ name: "write_custom_events", arguments: args })).rejects.toThrow(/401/);
    const raw = await rawCall({ authorization: `Bearer ${key.secret}`, "x-forwarded-for": ip }, "lookup_profile", {});
    expect(raw.status).toBe(401);
    expect((await jsonOf<TRestError>(raw)).data.reason).toBe("API_KEY_REVOKED");
    expect(await eventCount(seed.site.id)).toBe(before);
  });

  it("answers unknown, malformed and missing keys, and a session cookie alone, with 401", async () => {
    const key = await newKey();
    const forged = key.secret.slice(0, -4) + (key.secret.endsWith("AAAA") ? "BBBB" : "AAAA");
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const cases: Record<string, string>[] = [
      { authorization: `Bearer ${forged}` },
      { authorization: "Bearer ff_nope" },
      {},
      { cookie },
    ];
    for (const headers of cases) {
      const res = await rawCall({ ...headers, "x-forwarded-for": freshIp() }, "lookup_profile", { visitorId: "v" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await jsonOf<TRestError>(res)).data.reason).toBe("INVALID_API_KEY");
    }
  });

  it("gives each key its own rate limit with RateLimit-* headers, then RATE_LIMITED with Retry-After", async () => {
    const key = await newKey();
    const headers = { authorization: `Bearer ${key.secret}`, "x-forwarded-for": freshIp() };
    const first = await rawCall(headers, "lookup_profile", { visitorId: "v_none" });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe(String(KEY_RATE_LIMIT));
    expect(first.headers.get("ratelimit-remaining")).toBe(String(KEY_RATE_LIMIT - 1));
    const client = await connect(key.secret);
    for (let i = 1; i < KEY_RATE_LIMIT; i++) {
      expect(
        (await client.callTool({ name: "lookup_profile", arguments: { visitorId: "v_none" } })).isError,
      ).toBeFalsy();
    }
    const limited = await client.callTool({ name: "lookup_profile", arguments: { visitorId: "v_none" } });
    expect(limited.isError).toBe(true);
    expect(bodyOf(limited)).toMatchObject({ reason: "RATE_LIMITED", httpStatus: 429 });
    expect(bodyOf(limited).retryAfterSeconds).toBeGreaterThan(0);
    const raw = await rawCall(headers, "lookup_profile", { visitorId: "v_none" });
    expect(raw.headers.get("ratelimit-remaining")).toBe("0");
    // Another key of the same workspace has a budget of its own.
    const fresh = await connect((await newKey()).secret);
    expect((await fresh.callTool({ name: "lookup_profile", arguments: { visitorId: "v_none" } })).isError).toBeFalsy();
    await Promise.all([client.close(), fresh.close()]);
  });

  it("throttles failed key attempts per client IP (429), even for a valid key from that IP, not others", async () => {
    const key = await newKey();
    const ip = freshIp();
    for (let i = 0; i < FAILURES_PER_IP; i++) {
      const res = await rawCall({ authorization: "Bearer ff_wrong", "x-forwarded-for": ip }, "lookup_profile", {});
      expect(res.status).toBe(401);
    }
    const throttled = await rawCall({ authorization: `Bearer ${key.secret}`, "x-forwarded-for": ip }, "x", {});
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    const elsewhere = await rawCall({ authorization: `Bearer ${key.secret}`, "x-forwarded-for": freshIp() }, "x", {});
    expect(elsewhere.status).toBe(200);
  });

  it("never lets a key open the session endpoints", async () => {
    const key = await newKey();
    const auth = { authorization: `Bearer ${key.secret}`, "content-type": "application/json" };
    const body = JSON.stringify({ siteId: seed.site.id, events: [{ type: "visit", visitorId: "v_1" }] });
    const before = await eventCount(seed.site.id);
    const rest = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
      method: "POST",
      headers: auth,
      body,
    });
    expect(rest.status).toBe(401);
    const trpc = await fetch(`${app.baseUrl}/api/trpc/tracking.recordServerEvents`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ workspaceId: seed.workspace.id, ...JSON.parse(body) }),
    });
    expect(trpc.status).toBe(401);
    const list = await fetch(`${app.baseUrl}/api/api-keys?workspaceId=${seed.workspace.id}`, { headers: auth });
    expect(list.status).toBe(401);
    expect(await eventCount(seed.site.id)).toBe(before);
  });

  it("attributes session-recorded events to the session user (recordedBy user:<id>)", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ siteId: seed.site.id, events: [{ type: "visit", visitorId: `v_${uid()}` }] }),
    });
    expect(res.status).toBe(200);
    const { events } = await jsonOf<TWritten>(res);
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: events[0]!.eventId } });
    expect(stored).toMatchObject({ userId: seed.owner.id, recordedBy: `user:${seed.owner.id}` });
  });
});
