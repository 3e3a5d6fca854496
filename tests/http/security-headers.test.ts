import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
});
afterAll(() => app?.close());

/** A CSP header as directive → sources. */
function cspOf(res: Response): Record<string, string[]> {
  const header = res.headers.get("content-security-policy") ?? "";
  return Object.fromEntries(
    header
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...v]) => [name!, v]),
  );
}

function expectBaseHeaders(res: Response) {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(cspOf(res)["frame-ancestors"]).toEqual(["'none'"]);
  expect(res.headers.get("x-powered-by")).toBeNull();
}

describe("security headers", () => {
  it.each([
    ["an authenticated read", "/api/auth/me", true],
    ["the same over tRPC", `/api/trpc/auth.me?input=${encodeURIComponent("{}")}`, true],
    ["a refused read (no session)", "/api/auth/me", false],
  ])(
    "%s: nosniff, no referrer, no framing, a CSP that allows nothing, and no-store",
    async (_label, url, withCookie) => {
      const res = await fetch(`${app.baseUrl}${url}`, { headers: withCookie ? { cookie } : {} });
      expect(res.status).toBe(withCookie ? 200 : 401);
      expectBaseHeaders(res);
      expect(cspOf(res)["default-src"]).toEqual(["'none'"]);
      expect(res.headers.get("cache-control")).toBe("no-store");
    },
  );

  it("a recorded write answers no-store", async () => {
    const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ siteId: seed.site.id, events: [{ type: "signup", visitorId: "v_headers" }] }),
    });
    expect(res.status).toBe(200);
    expectBaseHeaders(res);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("health and unknown routes carry the base headers too", async () => {
    for (const url of ["/healthz", "/nope"]) expectBaseHeaders(await fetch(`${app.baseUrl}${url}`));
  });

  it("the docs page: scripts and styles from this server only, inline styles allowed, no inline scripts", async () => {
    const res = await fetch(`${app.baseUrl}/api/docs/`);
    expect(res.status).toBe(200);
    expectBaseHeaders(res);
    const csp = cspOf(res);
    expect(csp).toMatchObject({
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'", "'unsafe-inline'"],
      "img-src": ["'self'", "data:"],
      "connect-src": ["'self'"],
    });
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src=["']\.\/[\w.-]+\.js["']/);
      expect(body!.trim()).toBe("");
    }
    // Every script the page loads is served here, including the one carrying the OpenAPI document.
    for (const [, attrs] of scripts) {
      const src = /src=["']\.\/([\w.-]+\.js)["']/.exec(attrs!)![1];
      const js = await fetch(`${app.baseUrl}/api/docs/${src}`);
      expect(js.status).toBe(200);
      expect(js.headers.get("content-type")).toMatch(/javascript/);
    }
    const init = await (await fetch(`${app.baseUrl}/api/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"validatorUrl": null');
  });
});
