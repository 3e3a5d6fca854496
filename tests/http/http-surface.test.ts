import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail, type TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import type { TMeOutput } from "../../server/trpc/auth/me.types.ts";
import { arrayContaining, objectContaining, stringMatching } from "../support/matchers.ts";

const BODY_LIMIT = 4096;
const ALLOWED = "https://dashboard.example.com";
const JSON_TYPE = { "content-type": "application/json" };

let app: TTestApp;
let seed: TSeededWorkspace;

beforeAll(async () => {
  app = await startTestApp({ config: { BODY_LIMIT_BYTES: String(BODY_LIMIT), ALLOWED_ORIGINS: ALLOWED } });
  seed = await app.seedWorkspace();
});
afterAll(() => app?.close());

const url = (path: string) => `${app.baseUrl}${path}`;
const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = JSON_TYPE) =>
  fetch(url(path), { method: "POST", headers, body });

/**
 * Every error this file provokes goes through here: JSON, never an HTML page, never a stack
 * trace or a source path; REST `{ message, code, data }`, tRPC `{ error: { message, code, data } }`.
 */
async function expectJsonError(res: Response, status: number, reason?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const text = await res.text();
  expect(text).not.toMatch(/<html|<!doctype|<pre>/i);
  expect(text).not.toMatch(/"stack"|\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+/);
  const body = JSON.parse(text) as TErrorBody | { error: TErrorBody };
  const error = "error" in body ? body.error : body;
  expect(typeof error.message).toBe("string");
  expect(error.code).toBeDefined();
  if (reason) expect(error.data).toMatchObject({ reason, httpStatus: status });
  return error as {
    message: string;
    code: string | number;
    data?: { reason: string; requestId: string | null; httpStatus: number };
  };
}

describe("operations endpoints", () => {
  it("/healthz answers ok", async () => {
    const res = await fetch(url("/healthz"));
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ status: "ok" });
  });

  it("/readyz checks the database and Redis", async () => {
    const res = await fetch(url("/readyz"));
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({
      status: "ready",
      checks: { database: "ok", redis: app.redis ? "ok" : stringMatching(/^not configured/) },
    });
  });

  it("/readyz answers 503 naming the check when the database does not answer", async () => {
    const db = app.db;
    const ping = db.ping.bind(db);
    db.ping = () => Promise.reject(new Error("connection refused"));
    try {
      const res = await fetch(url("/readyz"));
      expect(res.status).toBe(503);
      expect(await jsonOf(res)).toMatchObject({
        status: "not ready",
        checks: { database: "error: connection refused" },
      });
    } finally {
      db.ping = ping;
    }
  });

  it("/metrics renders Prometheus text with the requests served", async () => {
    await fetch(url("/healthz"));
    const res = await fetch(url("/metrics"), { headers: { authorization: `Bearer ${app.config.metrics.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m,
    );
    // Label order carries no meaning in the exposition format: find the +Inf bucket by its labels.
    const infBucket = text
      .split("\n")
      .find(
        (l) =>
          l.startsWith("http_request_duration_seconds_bucket{") &&
          l.includes('le="+Inf"') &&
          l.includes('route="/healthz"'),
      );
    expect(infBucket).toMatch(/method="GET"/);
    expect(infBucket).toMatch(/status="200"/);
    expect(infBucket).toMatch(/\} [1-9]\d*$/);
    expect(text).toContain("# TYPE process_cpu_seconds_total counter");
  });
});

describe("X-Request-Id", () => {
  it("keeps a sane incoming id and echoes it, also in error bodies", async () => {
    const res = await fetch(url("/api/auth/me"), { headers: { "x-request-id": "trace-42.abc:1" } });
    expect(res.headers.get("x-request-id")).toBe("trace-42.abc:1");
    expect((await expectJsonError(res, 401, "UNAUTHENTICATED")).data!.requestId).toBe("trace-42.abc:1");
  });

  it("generates one when absent, different per request", async () => {
    const [a, b] = await Promise.all([fetch(url("/healthz")), fetch(url("/healthz"))]);
    expect(a.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{26}$/);
    expect(b.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{26}$/);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  it("replaces an incoming id that could pollute logs", async () => {
    for (const bad of ["has spaces", "x".repeat(129), 'quote"d']) {
      const res = await fetch(url("/healthz"), { headers: { "x-request-id": bad } });
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    }
  });

  it("tRPC error bodies carry the same id as the header", async () => {
    const res = await fetch(url("/api/trpc/auth.me"));
    const error = await expectJsonError(res, 401, "UNAUTHENTICATED");
    expect(error.data!.requestId).toBe(res.headers.get("x-request-id"));
  });
});

describe("JSON errors from the HTTP layer", () => {
  it.each(["/api/auth/login", "/api/trpc/auth.login"])("malformed JSON on %s is 400 MALFORMED_JSON", async (path) => {
    const error = await expectJsonError(await post(path, '{"email": "a@b.c", '), 400, "MALFORMED_JSON");
    expect(error.message).toBe("Request body is not valid JSON");
  });

  it.each(["/api/auth/login", "/api/trpc/auth.login"])("a body over BODY_LIMIT_BYTES on %s is 413", async (path) => {
    const body = JSON.stringify({ email: "a@b.c", password: "p".repeat(BODY_LIMIT) });
    await expectJsonError(await post(path, body), 413, "PAYLOAD_TOO_LARGE");
  });

  it.each(["/api/auth/login", "/api/trpc/auth.login"])(
    "a chunked body (no Content-Length) over the limit on %s is 413",
    async (path) => {
      const chunk = new TextEncoder().encode(" ".repeat(1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(url(path), {
        method: "POST",
        headers: JSON_TYPE,
        body: stream,
        duplex: "half",
      });
      await expectJsonError(res, 413, "PAYLOAD_TOO_LARGE");
    },
  );

  it.each(["/api/auth/login", "/api/trpc/auth.login"])(
    "a body just under the limit on %s is read (401, not 413)",
    async (path) => {
      const body = JSON.stringify({ email: seed.owner.email, password: "p".repeat(1000) });
      await expectJsonError(await post(path, body), 401, "INVALID_CREDENTIALS");
    },
  );

  it.each([
    ["/api/auth/login", "application/x-www-form-urlencoded", "email=a&password=b"],
    ["/api/auth/login", "text/plain", '{"email":"a","password":"b"}'],
    ["/api/trpc/auth.login", "text/plain", '{"email":"a","password":"b"}'],
    ["/api/trpc/auth.login", "multipart/form-data; boundary=x", "--x--"],
    ["/api/auth/logout", "application/x-www-form-urlencoded", "a=b"],
  ])("POST %s as %s is 415", async (path, type, body) => {
    await expectJsonError(await post(path, body, { "content-type": type }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("a POST body without a content type is 415", async () => {
    const res = await fetch(url("/api/auth/login"), {
      method: "POST",
      body: new Uint8Array(Buffer.from('{"email":"a"}')),
    });
    await expectJsonError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("REST accepts application/json; charset=utf-8 and reads the body (docs/trpc-openapi.md #4)", async () => {
    const headers = { "content-type": "application/json; charset=utf-8" };
    await expectJsonError(
      await post("/api/auth/login", JSON.stringify({ email: seed.owner.email, password: "wrong" }), headers),
      401,
      "INVALID_CREDENTIALS",
    );
    const ok = await post(
      "/api/auth/login",
      JSON.stringify({ email: seed.owner.email, password: seed.owner.password }),
      headers,
    );
    expect(ok.status).toBe(200);
    expect((await jsonOf<TMeOutput>(ok)).user.id).toBe(seed.owner.id);
    const trpc = await post(
      "/api/trpc/auth.login",
      JSON.stringify({ email: seed.owner.email, password: seed.owner.password }),
      headers,
    );
    expect(trpc.status).toBe(200);
  });

  it("rejects a wrong-typed input on REST and then on tRPC (docs/trpc-openapi.md #2: no coercion leak)", async () => {
    const body = JSON.stringify({ email: 12345, password: true });
    for (const path of ["/api/auth/login", "/api/trpc/auth.login", "/api/auth/login", "/api/trpc/auth.login"]) {
      const error = await expectJsonError(await post(path, body), 400, "VALIDATION_FAILED");
      expect(error.message).toBe("Input validation failed");
      expect(error.data).toMatchObject({
        issues: arrayContaining([objectContaining({ path: ["email"] }), objectContaining({ path: ["password"] })]),
      });
    }
  });

  it.each(["/nope", "/api/nope", "/api/trpc/nope.missing", "/api/auth"])(
    "unknown route %s is 404 JSON",
    async (path) => {
      await expectJsonError(await fetch(url(path)), 404);
    },
  );

  it("hides internal errors: 500 with a generic message on both transports", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const deps = app.runtime.deps;
    const db = deps.db;
    const failing = new Proxy(db.prisma, {
      get: (target, prop, receiver) =>
        prop === "user"
          ? { findUnique: () => Promise.reject(new Error("password=hunter2 at /srv/app/secret.ts:12:3")) }
          : (Reflect.get(target, prop, receiver) as unknown),
    });
    deps.db = { ...db, prisma: failing };
    try {
      for (const path of ["/api/auth/me", "/api/trpc/auth.me"]) {
        const res = await fetch(url(path), { headers: { cookie } });
        const error = await expectJsonError(res, 500, "INTERNAL");
        expect(error.message).toBe("Internal server error");
        expect(JSON.stringify(error)).not.toContain("hunter2");
      }
    } finally {
      deps.db = db;
    }
  });
});

describe("cross-site request refusal", () => {
  // A fresh email each time: failed logins of one email from one address are throttled (429).
  const login = (headers: Record<string, string>) =>
    post("/api/auth/login", JSON.stringify({ email: uniqueEmail("origin"), password: "wrong" }), {
      ...JSON_TYPE,
      ...headers,
    });

  it.each(["/api/auth/login", "/api/trpc/auth.login", "/api/auth/logout"])(
    "a cross-site Origin on POST %s is 403",
    async (path) => {
      const res = await post(path, "{}", { ...JSON_TYPE, origin: "https://evil.example.net" });
      await expectJsonError(res, 403, "CROSS_SITE_REQUEST");
    },
  );

  it("Origin: null and Sec-Fetch-Site: cross-site are refused too", async () => {
    await expectJsonError(await login({ origin: "null" }), 403, "CROSS_SITE_REQUEST");
    await expectJsonError(await login({ "sec-fetch-site": "cross-site" }), 403, "CROSS_SITE_REQUEST");
  });

  it("the app's own origin and ALLOWED_ORIGINS pass (the request reaches the procedure)", async () => {
    await expectJsonError(await login({ origin: app.baseUrl }), 401, "INVALID_CREDENTIALS");
    await expectJsonError(await login({ origin: ALLOWED }), 401, "INVALID_CREDENTIALS");
    await expectJsonError(await login({ "sec-fetch-site": "same-origin" }), 401, "INVALID_CREDENTIALS");
  });

  it("an origin that only starts like an allowed one is refused", async () => {
    await expectJsonError(await login({ origin: `${ALLOWED}.evil.net` }), 403, "CROSS_SITE_REQUEST");
  });
});

describe("behind a TLS-terminating proxy", () => {
  let proxied: TTestApp;
  beforeAll(async () => {
    proxied = await startTestApp({ config: { PUBLIC_URL: "https://events.example.com" } });
  });
  afterAll(() => proxied?.close());

  it("the PUBLIC_URL origin counts as the app's own, though the app sees itself as http://", async () => {
    const login = (origin: string) =>
      fetch(`${proxied.baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { ...JSON_TYPE, origin },
        body: JSON.stringify({ email: "x@example.com", password: "wrong" }),
      });
    await expectJsonError(await login("https://events.example.com"), 401, "INVALID_CREDENTIALS");
    await expectJsonError(await login("http://events.example.com"), 403, "CROSS_SITE_REQUEST");
  });
});

describe("in development", () => {
  let dev: TTestApp;
  beforeAll(async () => {
    dev = await startTestApp({ config: { NODE_ENV: "development" } });
  });
  afterAll(() => dev?.close());

  it("error bodies still carry no stack trace on either transport (docs/trpc-openapi.md #7)", async () => {
    for (const path of ["/api/auth/login", "/api/trpc/auth.login"]) {
      const res = await fetch(`${dev.baseUrl}${path}`, {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify({ email: 1 }),
      });
      const text = await res.text();
      expect(res.status).toBe(400);
      expect(text).not.toMatch(/"stack"|\bat [\w.<>]+ \(|\.ts:\d+/);
    }
  });
});

describe("every error carries its request id", () => {
  it("unknown routes under /api, /api/trpc and elsewhere name the request id the response header gives", async () => {
    for (const [method, path] of [
      ["GET", "/api/no-such-route"],
      ["POST", "/api/no/such/route"],
      ["GET", "/no-such-page"],
    ] as const) {
      const res = await fetch(`${app.baseUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(res.status).toBe(404);
      const body = await jsonOf<TErrorBody>(res);
      expect(body.data.requestId).toEqual(stringMatching(/^req_/));
      expect(body.data.requestId).toBe(res.headers.get("x-request-id"));
    }
  });
});
