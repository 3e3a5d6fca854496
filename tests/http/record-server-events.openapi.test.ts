import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  recordServerEventsMeta,
  type TRecordServerEventsOutput,
} from "../../server/trpc/tracking/record-server-events.types.ts";
import { createTestWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { anyString, anything, objectContaining, stringMatching } from "../support/matchers.ts";

type TSchema = {
  type?: string;
  description?: string;
  example?: unknown;
  properties?: Record<string, TSchema>;
  items?: TSchema;
  required?: string[];
  additionalProperties?: unknown;
  minItems?: number;
  maxItems?: number;
  [k: string]: unknown;
};
type TResponse = { description: string; content?: Record<string, { schema: TSchema }> };
type TOperation = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: TSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: TSchema }> };
  responses: Record<string, TResponse>;
};

const PATH = "/tracking/server-events";
const ERROR_STATUSES = ["400", "401", "403", "413", "415", "429", "503"];

let app: TTestApp;
let raw: { paths: Record<string, Record<string, TOperation>>; components?: { schemas?: Record<string, TSchema> } };
/** The same document with every `$ref` resolved. */
let deref: typeof raw;
let op: TOperation;

beforeAll(async () => {
  app = await startTestApp();
  const res = await fetch(`${app.baseUrl}/api/openapi.json`);
  expect(res.status).toBe(200);
  raw = (await res.json()) as typeof raw;
  deref = (await SwaggerParser.dereference(structuredClone(raw) as never)) as unknown as typeof raw;
  op = deref.paths[PATH]!.post!;
});
afterAll(() => app?.close());

describe(`OpenAPI: POST ${PATH}`, () => {
  it("is the only operation on the path, protected by the session cookie, and says what it does", () => {
    expect(Object.keys(raw.paths[PATH]!)).toEqual(["post"]);
    expect(op.security).toEqual([{ sessionCookie: [] }]);
    expect(op.summary).toBeTruthy();
    // The rate limit's unit must be explicit: requests, each of up to 50 events.
    expect(op.description).toMatch(/REQUESTS \(each of up to 50 events\) per session user/);
    expect(op.description).toMatch(/RateLimit-Limit.*RateLimit-Remaining.*RateLimit-Reset/s);
    expect(op.description).toMatch(/Retry-After/);
  });

  it("takes workspaceId as a required query parameter, and only there", () => {
    expect(op.parameters).toEqual([
      {
        name: "workspaceId",
        in: "query",
        required: true,
        description: stringMatching(/\w/),
        schema: objectContaining({ type: "string" }),
      },
    ]);
    expect(JSON.stringify(raw.paths[PATH]!.post!.requestBody)).not.toContain("workspaceId");
  });

  it("describes the JSON body exactly: fields, required ones, limits, a description on every field", () => {
    expect(op.requestBody?.required).toBe(true);
    expect(Object.keys(op.requestBody!.content)).toEqual(["application/json"]);
    const body = op.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(body.properties!)).toEqual(["siteId", "sentAt", "events"]);
    expect(body.required).toEqual(["siteId", "events"]);
    expect(body.properties!.events).toMatchObject({ type: "array", minItems: 1, maxItems: 50 });

    const event = body.properties!.events!.items!;
    expect(Object.keys(event.properties!).sort()).toEqual([
      "email",
      "messageId",
      "path",
      "props",
      "referrer",
      "timestamp",
      "type",
      "userId",
      "utm",
      "visitorId",
    ]);
    expect(event.required).toEqual(["type"]);
    expect(event.additionalProperties).toBe(false);
    expect(Object.keys(event.properties!.utm!.properties!)).toEqual([
      "source",
      "medium",
      "campaign",
      "term",
      "content",
    ]);
    expect(event.properties!.type).toMatchObject({ pattern: "^[A-Za-z0-9_.:-]{1,64}$" });
    expect(event.properties!.visitorId).toMatchObject({ maxLength: 128 });
    expect(event.properties!.messageId).toMatchObject({ maxLength: 128 });
    expect(event.properties!.path).toMatchObject({ maxLength: 2048 });
    expect(event.properties!.props!.description).toMatch(/8192 bytes/);

    const undescribed = [
      ...Object.entries(body.properties!)
        .filter(([, s]) => !s.description)
        .map(([k]) => k),
      ...Object.entries(event.properties!)
        .filter(([, s]) => !s.description)
        .map(([k]) => `events[].${k}`),
      ...Object.entries(event.properties!.utm!.properties!)
        .filter(([, s]) => !s.description)
        .map(([k]) => `events[].utm.${k}`),
    ];
    expect(undescribed).toEqual([]);
  });

  it("carries examples that compose the README's example request", () => {
    const body = op.requestBody!.content["application/json"]!.schema;
    const event = body.properties!.events!.items!.properties!;
    expect({
      siteId: body.properties!.siteId!.example,
      events: [
        {
          type: event.type!.example,
          visitorId: event.visitorId!.example,
          email: event.email!.example,
          path: event.path!.example,
          props: event.props!.example,
        },
      ],
    }).toEqual({
      siteId: "site_456",
      events: [
        {
          type: "signup",
          visitorId: anyString(),
          email: "user@example.com",
          path: "/api/signup",
          props: { plan: "pro" },
        },
      ],
    });
    expect(op.parameters![0]!.schema!.example).toBe("ws_123");
  });

  it("describes the 200 response with a schema, field descriptions and an example that fits it", () => {
    const ok = op.responses["200"]!;
    expect(ok.description).toMatch(/\w/);
    const schema = ok.content!["application/json"]!.schema;
    expect(schema.required).toEqual(["requestId", "accepted", "duplicates", "events"]);
    const event = schema.properties!.events!.items!;
    expect(Object.keys(event.properties!).sort()).toEqual(
      ["channel", "eventId", "index", "merged", "mergeRefused", "profileId", "stage", "stageCapped", "status"].sort(),
    );
    expect(event.properties!.status).toMatchObject({ enum: ["recorded", "duplicate"] });
    const undescribed = [
      ...Object.entries(schema.properties!)
        .filter(([, f]) => !f.description)
        .map(([k]) => k),
      ...Object.entries(event.properties!)
        .filter(([, f]) => !f.description)
        .map(([k]) => `events[].${k}`),
    ];
    expect(undescribed).toEqual([]);
    expect(schema.example).toBeDefined();
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(schema.example), JSON.stringify(validate.errors)).toBe(true);
  });

  it("lists every error status the procedure can answer, each with this procedure's own description", () => {
    expect(Object.keys(op.responses).sort()).toEqual(["200", ...ERROR_STATUSES, "500"].sort());
    const own = recordServerEventsMeta.openapi!.errorResponses as Record<number, string>;
    for (const status of [...ERROR_STATUSES, "500"]) {
      expect(op.responses[status]!.description, status).toBe(own[Number(status)]);
      expect(op.responses[status]!.content?.["application/json"]?.schema, status).toMatchObject({
        type: "object",
        properties: objectContaining({ message: anything(), data: anything() }),
      });
    }
  });

  it("its error schemas carry no other endpoint's wording (they are shared components)", () => {
    const wording = Object.entries(op.responses)
      .filter(([status]) => status !== "200")
      .flatMap(([status, res]) => {
        const schema = res.content!["application/json"]!.schema;
        return [
          res.description,
          schema.title,
          JSON.stringify(schema.example),
          JSON.stringify(schema.properties?.message?.example),
        ].map((text) => `${status}: ${String(text)}`);
      });
    expect(
      wording.filter((text) =>
        /email or password|failed logins|Cross-site request refused|Session store unavailable/.test(text),
      ),
    ).toEqual([]);
  });
});

describe(`POST /api${PATH}: real answers fit the document`, () => {
  let seed: TSeededWorkspace;
  let cookie: string;
  let viewerCookie: string;

  beforeAll(async () => {
    seed = await app.seedWorkspace({ roles: ["VIEW_ONLY"] });
    [cookie, viewerCookie] = await Promise.all([
      app.login(seed.owner.email, seed.owner.password),
      app.login(seed.members.VIEW_ONLY!.email, seed.members.VIEW_ONLY!.password),
    ]);
  });

  const post = (query: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.baseUrl}/api${PATH}${query}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const validBody = () => ({
    siteId: seed.site.id,
    events: [{ type: "signup", visitorId: `v_${Math.random().toString(36).slice(2)}` }],
  });

  function validatorFor(status: string) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    return ajv.compile(op.responses[status]!.content!["application/json"]!.schema);
  }

  it.each([
    ["200", () => post(`?workspaceId=${seed.workspace.id}`, validBody())],
    ["400", () => post(`?workspaceId=${seed.workspace.id}`, { siteId: seed.site.id, events: [] })],
    ["401", () => post(`?workspaceId=${seed.workspace.id}`, validBody(), { cookie: "" })],
    ["403", () => post(`?workspaceId=${seed.workspace.id}`, validBody(), { cookie: viewerCookie })],
    ["413", () => post(`?workspaceId=${seed.workspace.id}`, { ...validBody(), padding: "x".repeat(1024 * 1024) })],
    [
      "415",
      () =>
        post(`?workspaceId=${seed.workspace.id}`, "siteId=x", { "content-type": "application/x-www-form-urlencoded" }),
    ],
  ])("a real %s body validates against the documented schema", async (status, call) => {
    const res = await call();
    expect(String(res.status)).toBe(status);
    const validate = validatorFor(status);
    const body = await res.json();
    expect(validate(body), `${status}: ${JSON.stringify(validate.errors)} ${JSON.stringify(body).slice(0, 300)}`).toBe(
      true,
    );
  });

  it("without ?workspaceId= the request is 400 naming workspaceId", async () => {
    const res = await post("", validBody());
    expect(res.status).toBe(400);
    const body = await jsonOf<TErrorBody>(res);
    expect(body.data.issues.map((i) => i.path)).toContainEqual(["workspaceId"]);
  });

  it("the query string wins over a workspaceId smuggled into the body", async () => {
    const other = await createTestWorkspace(app.db.prisma, { ownerId: seed.owner.id, name: "Other" });
    const res = await post(`?workspaceId=${seed.workspace.id}`, { ...validBody(), workspaceId: other.workspace.id });
    expect(res.status).toBe(200);
    const { events } = await jsonOf<TRecordServerEventsOutput>(res);
    expect(await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: events[0]!.eventId } })).toMatchObject({
      workspaceId: seed.workspace.id,
    });
  });
});
