import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_IDS } from "../../server/trpc/shared/examples.types.ts";
import { appRouter } from "../../server/trpc/router.ts";
import { TEST_PASSWORD, type TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

type TSchema = Record<string, unknown>;
type TParam = {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  example?: unknown;
  schema?: TSchema;
};
type TOp = {
  operationId: string;
  parameters?: TParam[];
  requestBody?: { content: Record<string, { schema: TSchema; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: TSchema; example?: unknown }> }>;
};
type TDoc = {
  info: { description: string };
  paths: Record<string, Record<string, TOp>>;
  components: { securitySchemes: Record<string, { description: string }> };
};

type TRecordAnswer = { events: { status: string; profileId: string }[] };

let app: TTestApp;
let seed: TSeededWorkspace;
let raw: TDoc;
/** The document with every `$ref` resolved. */
let doc: TDoc;
let cookie: string;

beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
  raw = await jsonOf<TDoc>(await fetch(`${app.baseUrl}/api/openapi.json`));
  doc = (await SwaggerParser.dereference(structuredClone(raw) as never)) as unknown as TDoc;
  cookie = await app.login(seed.owner.email, TEST_PASSWORD);
});
afterAll(() => app?.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

/** Replaces the documented example ids (and the login's password) by the seeded ones, as a user would. */
function withRealIds(value: unknown, ids: Record<string, string>): unknown {
  let text = JSON.stringify(value);
  for (const [name, example] of Object.entries(EXAMPLE_IDS)) text = text.replaceAll(example, ids[name] ?? example);
  text = text.replaceAll("demo@example.com", seed.owner.email);
  text = text.replaceAll("the password printed at first start", TEST_PASSWORD);
  return JSON.parse(text);
}

/** What "Try it out" sends for an operation: the body example and every parameter's example. */
function tryItOut(path: string, op: TOp, ids: Record<string, string>) {
  const params: Record<string, string> = {};
  for (const p of op.parameters ?? []) {
    const example = p.example ?? p.schema?.example;
    if (example !== undefined) params[p.name] = String(withRealIds(example, ids));
  }
  const url = new URL(`${app.baseUrl}/api${path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "")}`);
  for (const p of op.parameters ?? [])
    if (p.in === "query" && params[p.name]) url.searchParams.set(p.name, params[p.name]!);
  const example = op.requestBody?.content["application/json"]?.example;
  return { url, params, body: example === undefined ? undefined : withRealIds(example, ids) };
}

/** The procedure behind an operation, to check an example against the zod schemas the server parses with. */
function zodInputs(operationId: string): { parse(v: unknown): unknown }[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { inputs: unknown[] } }>;
  return procedures[operationId.replace("-", ".")]!._def.inputs as { parse(v: unknown): unknown }[];
}

describe("OpenAPI examples", () => {
  it("every operation with a body has an example that succeeds as-is once the ids are replaced", async () => {
    // Recording first gives a real profile id for profiles.get.
    const order = ["tracking-recordServerEvents", "tracking-listEvents", "profiles-lookup", "profiles-get"];
    order.push("apiKeys-create", "apiKeys-list", "apiKeys-revoke", "sites-list", "sites-collectStats");
    order.push("sites-setStripeSecret");
    order.push("sites-setBrowserStageCeiling");
    order.push("sites-setIdentityVerification");
    order.push("auth-me", "auth-logout", "auth-login");
    const ids: Record<string, string> = { workspaceId: seed.workspace.id, siteId: seed.site.id };
    // Its own session: the logout example ends it.
    const own = await app.login(seed.owner.email, TEST_PASSWORD);
    const byId = new Map(operations().map((o) => [o.op.operationId, o]));
    expect([...byId.keys()].sort()).toEqual([...order].sort());
    for (const operationId of order) {
      const { path, method, op } = byId.get(operationId)!;
      const sent = tryItOut(path, op, ids);
      if (op.requestBody) expect(sent.body, `${operationId} has a body example`).toBeDefined();
      const input = { ...(sent.body as object), ...sent.params };
      for (const parser of zodInputs(operationId)) expect(() => parser.parse(input), operationId).not.toThrow();
      const res = await fetch(sent.url, {
        method,
        headers: { cookie: own, ...(sent.body === undefined ? {} : { "content-type": "application/json" }) },
        body: sent.body === undefined ? undefined : JSON.stringify(sent.body),
      });
      const answer = await jsonOf<TRecordAnswer & { profile?: { id: string }; id?: string }>(res);
      expect(res.status, `${operationId}: ${JSON.stringify(answer)}`).toBe(200);
      if (operationId === "tracking-recordServerEvents") {
        expect(answer.events[0]!.status).toBe("recorded");
        ids.profileId = answer.events[0]!.profileId;
      }
      if (operationId === "profiles-lookup") expect(answer.profile?.id).toBe(ids.profileId);
      // The revoke example names the key the create example made.
      if (operationId === "apiKeys-create") ids.keyId = answer.id!;
    }
  });

  it('the record example sent twice: the second is a duplicate, not a second event ("Try it out" twice)', async () => {
    const { path, op } = operations().find((o) => o.op.operationId === "tracking-recordServerEvents")!;
    const sent = tryItOut(path, op, { workspaceId: seed.workspace.id, siteId: seed.site.id });
    const res = await fetch(sent.url, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify(sent.body),
    });
    expect(res.status).toBe(200);
    expect((await jsonOf<TRecordAnswer>(res)).events[0]!.status).toBe("duplicate");
  });

  it("puts no regex pattern on a date-time field, and bounds every integer at 0", () => {
    const found: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (!node || typeof node !== "object") return;
      const s = node as TSchema;
      if (s.format === "date-time" && "pattern" in s) found.push(`${at}: pattern on a date-time`);
      if (s.type === "integer" && typeof s.minimum === "number" && s.minimum < 0) found.push(`${at}: ${s.minimum}`);
      for (const [k, v] of Object.entries(node)) visit(v, `${at}/${k}`);
    };
    visit(doc.paths, "#/paths");
    expect(found).toEqual([]);
    const sentAt = doc.paths["/tracking/server-events"]!.post!.requestBody!.content["application/json"]!.schema;
    expect((sentAt.properties as Record<string, TSchema>).sentAt).toMatchObject({ format: "date-time" });
  });

  it("describes every parameter", () => {
    const bare = operations().flatMap(({ op }) =>
      (op.parameters ?? []).filter((p) => !p.description).map((p) => `${op.operationId} ${p.name}`),
    );
    expect(bare).toEqual([]);
    const lookup = operations().find((o) => o.op.operationId === "profiles-lookup")!.op;
    // Only one of the two has an example: "Try it out" would send both, and exactly one is allowed.
    expect(lookup.parameters!.filter((p) => p.example !== undefined).map((p) => p.name)).toEqual(["visitorId"]);
  });

  it("gives every error response a real example that fits its schema: reason, status, code, issues, requestId", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const { op } of operations()) {
      for (const [status, res] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        const media = res.content!["application/json"]!;
        const example = media.example as { code: string; data: Record<string, unknown> } | undefined;
        expect(example, `${op.operationId} ${status}`).toBeDefined();
        expect(Object.keys(example!)).toEqual(["message", "code", "data"]);
        expect(example!.data).toMatchObject({ httpStatus: Number(status), code: example!.code });
        expect(example!.data.reason).toMatch(/^[A-Z_]+$/);
        expect(example!.data.requestId).toMatch(/^req_/);
        const validate = ajv.compile(media.schema);
        expect(validate(example), `${op.operationId} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    }
    const badInput = doc.paths["/tracking/server-events"]!.post!.responses["400"]!.content!["application/json"]!;
    expect((badInput.example as { data: { issues: unknown[] } }).data.issues).toEqual([
      expect.objectContaining({ path: ["events", 0, "timestamp"], code: "invalid_format" }),
    ]);
  });

  it("the 403 example of recordServerEvents is what the server really answers for a foreign site", async () => {
    const media = doc.paths["/tracking/server-events"]!.post!.responses["403"]!.content!["application/json"]!;
    const example = media.example as { message: string; data: Record<string, unknown> };
    const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ siteId: "site_not_ours", events: [{ type: "signup", visitorId: "v_1x" }] }),
    });
    const body = await jsonOf<TErrorBody>(res);
    expect(res.status).toBe(403);
    expect(body.message).toBe(example.message);
    expect({ ...body.data, requestId: "x" }).toEqual({ ...example.data, requestId: "x" });
  });
});

describe("OpenAPI: how to authenticate on the docs page", () => {
  it("says to run POST /auth/login on the page, and that nothing is to be typed under Authorize", () => {
    expect(doc.info.description).toMatch(/POST \/auth\/login/);
    expect(doc.info.description).toMatch(/nothing to enter under \*Authorize\*/);
    const scheme = doc.components.securitySchemes.sessionCookie!;
    expect(scheme.description).toMatch(/HttpOnly/);
    expect(scheme.description).toMatch(/do not type anything here: run POST \/auth\/login/);
  });

  it("a logged-in browser session is what authorizes Try it out: the login's cookie alone suffices", async () => {
    const login = await fetch(`${app.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: seed.owner.email, password: TEST_PASSWORD }),
    });
    const setCookie = login.headers.getSetCookie().join(";");
    expect(setCookie).toMatch(/HttpOnly/i);
    const fresh = setCookie.split(";", 1)[0]!;
    const me = await fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie: fresh } });
    expect(me.status).toBe(200);
  });
});

describe("profiles: an unknown identifier or id", () => {
  it("lookup answers 200 with profile null (documented so, with no 404)", async () => {
    const url = `${app.baseUrl}/api/profiles/lookup?workspaceId=${seed.workspace.id}&visitorId=v_nobody_here`;
    const res = await fetch(url, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(await jsonOf<unknown>(res)).toEqual({ profile: null });
    const op = doc.paths["/profiles/lookup"]!.get!;
    expect(Object.keys(op.responses)).not.toContain("404");
  });

  it("get answers 404 NOT_FOUND naming profileId", async () => {
    const res = await fetch(`${app.baseUrl}/api/profiles/prf_unknown?workspaceId=${seed.workspace.id}`, {
      headers: { cookie },
    });
    expect(res.status).toBe(404);
    const body = await jsonOf<TErrorBody>(res);
    expect(body.data.reason).toBe("NOT_FOUND");
    expect(body.data.issues[0]!.path).toEqual(["profileId"]);
    expect(Object.keys(doc.paths["/profiles/{profileId}"]!.get!.responses)).toContain("404");
  });
});

describe("one error shape on both transports", () => {
  const bad = { siteId: "", events: [] };

  it("a REST validation error is exactly { message, code, data }, the issues in data.issues only", async () => {
    const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify(bad),
    });
    expect(res.status).toBe(400);
    const body = await jsonOf<TErrorBody>(res);
    expect(Object.keys(body).sort()).toEqual(["code", "data", "message"]);
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.data.reason).toBe("VALIDATION_FAILED");
    expect(body.data.issues.map((i) => i.path[0]).sort()).toEqual(["events", "siteId"]);
    for (const issue of body.data.issues) expect(Object.keys(issue).sort()).toEqual(["code", "message", "path"]);
  });

  it("the same input over tRPC has the same data, inside { error: { message, code, data } }", async () => {
    const res = await fetch(`${app.baseUrl}/api/trpc/tracking.recordServerEvents`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ workspaceId: seed.workspace.id, ...bad }),
    });
    expect(res.status).toBe(400);
    const body = await jsonOf<{ error: TErrorBody }>(res);
    expect(Object.keys(body)).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "data", "message"]);
    expect(body.error.data.issues.map((i) => i.path[0]).sort()).toEqual(["events", "siteId"]);
  });

  it("an unknown route is a 404 in the same shape", async () => {
    const res = await fetch(`${app.baseUrl}/api/nothing-here`);
    expect(res.status).toBe(404);
    const body = await jsonOf<TErrorBody>(res);
    expect(Object.keys(body).sort()).toEqual(["code", "data", "message"]);
    expect(body.data).toMatchObject({ reason: "NOT_FOUND", httpStatus: 404 });
  });
});

describe("GET /", () => {
  it("redirects to the docs page", async () => {
    const res = await fetch(`${app.baseUrl}/`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/api/docs/");
    const page = await fetch(`${app.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger-ui/i);
  });
});
