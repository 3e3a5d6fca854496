import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

type TDoc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; parameters?: unknown[] }
    >
  >;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

let app: TTestApp;
let seed: TSeededWorkspace;
let doc: TDoc;

beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
  const res = await fetch(`${app.baseUrl}/api/openapi.json`);
  expect(res.status).toBe(200);
  doc = await jsonOf(res);
});
afterAll(() => app?.close());

/** The schema of one documented response, with `$ref`s into components resolved. */
function responseSchema(path: string, method: string, status: string) {
  const schema = doc.paths[path]?.[method]?.responses[status]?.content?.["application/json"]?.schema as
    { $ref?: string } | undefined;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} documents no ${status}`);
  return { ...schema, components: doc.components } as Record<string, unknown>;
}

/** ajv for OpenAPI 3.1 schemas (JSON Schema 2020-12); `example` is an annotation OpenAPI adds. */
function validatorFor(schema: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const { components, ...root } = schema;
  ajv.addSchema({ $id: "doc", components }, "doc");
  const fixRefs = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(fixRefs)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.entries(value).map(([k, v]) => [
              k,
              k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `doc${v}` : fixRefs(v),
            ]),
          )
        : value;
  return ajv.compile(fixRefs(root) as object);
}

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3 document (checked by swagger-parser)", async () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it("documents the auth endpoints and the session cookie", () => {
    expect(Object.keys(doc.paths["/auth/login"] ?? {})).toEqual(["post"]);
    expect(Object.keys(doc.paths["/auth/logout"] ?? {})).toEqual(["post"]);
    expect(Object.keys(doc.paths["/auth/me"] ?? {})).toEqual(["get"]);
    expect(doc.components?.securitySchemes?.sessionCookie).toMatchObject({
      type: "apiKey",
      in: "cookie",
      name: "fse.sid",
    });
  });

  it("asks for the session cookie everywhere but on login and logout", () => {
    const security = (path: string, method: string) =>
      (doc.paths[path] as Record<string, { security?: unknown[] }>)[method]!.security ?? [];
    expect(security("/auth/login", "post")).toEqual([]);
    expect(security("/auth/logout", "post")).toEqual([]);
    for (const [path, method] of [
      ["/auth/me", "get"],
      ["/tracking/server-events", "post"],
      ["/tracking/events", "get"],
      ["/profiles/lookup", "get"],
      ["/profiles/{profileId}", "get"],
      ["/sites/stripe-secret", "post"],
      ["/sites/browser-stage-ceiling", "post"],
    ] as const) {
      expect(security(path, method), `${method} ${path}`).toEqual([{ sessionCookie: [] }]);
    }
  });

  it("names every status the login can answer (docs/trpc-openapi.md #8)", () => {
    expect(Object.keys(doc.paths["/auth/login"]!.post!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "415",
      "429",
      "503",
    ]);
  });

  it("every error response declares `data` (docs/trpc-openapi.md #9)", () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const status of Object.keys(op.responses).filter((s) => /^[45]/.test(s))) {
          const schema = responseSchema(path, method, status);
          const target = schema.$ref ? doc.components!.schemas![(schema.$ref as string).split("/").pop()!] : schema;
          expect(target, `${method} ${path} ${status}`).toMatchObject({
            properties: { data: { properties: { reason: { type: "string" } } } },
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it("real error bodies validate against their documented schemas, as a strict client checks them", async () => {
    const post = (body: unknown) =>
      fetch(`${app.baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const cases: [Response, string, string, string][] = [
      [await post({ email: seed.owner.email, password: "wrong" }), "/auth/login", "post", "401"],
      [await post({ email: 42 }), "/auth/login", "post", "400"],
      [await fetch(`${app.baseUrl}/api/auth/me`), "/auth/me", "get", "401"],
    ];
    for (const [res, path, method, status] of cases) {
      expect(String(res.status)).toBe(status);
      const body = await jsonOf<TErrorBody>(res);
      expect(body.data).toBeDefined();
      const validate = validatorFor(responseSchema(path, method, status));
      expect(validate(body), `${method} ${path} ${status}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("a successful login validates against the documented 200 schema", async () => {
    const res = await fetch(`${app.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: seed.owner.email, password: seed.owner.password }),
    });
    const validate = validatorFor(responseSchema("/auth/login", "post", "200"));
    expect(validate(await jsonOf(res)), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe("GET /api/docs", () => {
  it("serves Swagger UI whose scripts and styles are local: no CDN", async () => {
    const res = await fetch(`${app.baseUrl}/api/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('id="swagger-ui"');
    const assets = [...html.matchAll(/(?:src|href)=["']([^"']+\.(?:js|css))["']/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) expect(asset).not.toMatch(/^(https?:)?\/\//);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|cloudflare/);

    for (const asset of assets) {
      const assetRes = await fetch(new URL(asset, `${app.baseUrl}/api/docs/`));
      expect(assetRes.status, asset).toBe(200);
      expect(assetRes.headers.get("content-type"), asset).toMatch(asset.endsWith(".css") ? /text\/css/ : /javascript/);
      expect((await assetRes.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
  });

  it("the page's init script carries this service's document", async () => {
    const res = await fetch(`${app.baseUrl}/api/docs/swagger-ui-init.js`);
    expect(res.status).toBe(200);
    const js = await res.text();
    expect(js).toContain('"/auth/login"');
    expect(js).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"'\s]*\.(js|css)/);
  });
});
