import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_OUT_DIR } from "../../client/build-web.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
beforeAll(async () => (app = await startTestApp()));
afterAll(() => app?.close());

const get = (path: string) => fetch(`${app.baseUrl}${path}`, { redirect: "manual" });

describe("/app: the dashboard's files", () => {
  it("index.html for /app/ and any app route, never cached, under the dashboard's own CSP", async () => {
    // A malformed address too (finding row 8): the page itself shows what is wrong with it.
    for (const path of ["/app/", "/app/login", "/app/w/ws_1/sites/site_1/events", "/app/w/%E0%A4%A/search?q=%"]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy") ?? "";
      for (const directive of [
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
      ])
        expect(csp).toContain(directive);
      expect(await res.text()).toMatch(/<script type="module" src="\/app\/app-[A-Z0-9]{8}\.js"><\/script>/);
    }
  });

  it("/app redirects to /app/", async () => {
    const res = await get("/app");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("/app/");
  });

  it("content-hashed assets are cached for a year; a missing asset is a 404, not the page", async () => {
    const files = await readdir(join(WEB_OUT_DIR, "app"));
    const script = files.find((f) => f.endsWith(".js"))!;
    const res = await get(`/app/${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await get("/app/app-ZZZZZZZZ.js")).status).toBe(404);
  });
});

describe("/app without a build", () => {
  let bare: TTestApp;
  let emptyDir: string;
  beforeAll(async () => {
    emptyDir = await mkdtemp(join(tmpdir(), "fse-no-web-"));
    bare = await startTestApp({ config: { WEB_DIR: emptyDir } });
  });
  afterAll(async () => {
    await bare?.close();
    await rm(emptyDir, { recursive: true, force: true });
  });

  it("answers a page that says how to build it", async () => {
    const res = await fetch(`${bare.baseUrl}/app/`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("npm run build:web");
  });
});
