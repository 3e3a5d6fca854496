import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SNIPPET_MAX_AGE_SECONDS } from "../../server/http/snippet.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
beforeAll(async () => (app = await startTestApp()), 60_000);
afterAll(() => app?.close());

/** The snippet loads on every page of a customer's site: it must stay small. */
const MAX_GZIPPED_BYTES = 4096;

it("serves /fz.js small, cacheable and loadable from other origins", async () => {
  const res = await fetch(`${app.baseUrl}/fz.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe(`public, max-age=${SNIPPET_MAX_AGE_SECONDS}`);
  expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{16}"$/);
  const body = Buffer.from(await res.arrayBuffer());
  expect(body.toString("utf8")).toContain("/api/collect");
  expect(gzipSync(body).length).toBeLessThanOrEqual(MAX_GZIPPED_BYTES);
  // No third-party requests: the only URL it talks to is derived from its own src.
  expect(body.toString("utf8")).not.toMatch(/https?:\/\//);
});

it("answers a revalidation with the same ETag by 304 and no body", async () => {
  const etag = (await fetch(`${app.baseUrl}/fz.js`)).headers.get("etag")!;
  const res = await fetch(`${app.baseUrl}/fz.js`, { headers: { "if-none-match": etag } });
  expect(res.status).toBe(304);
  expect(await res.text()).toBe("");
});

it("pins a version: /fz.<version>.js is the same bytes, cached for a year, with its SRI hash", async () => {
  const latest = await fetch(`${app.baseUrl}/fz.js`);
  const version = latest.headers.get("x-snippet-version")!;
  expect(latest.headers.get("etag")).toBe(`"${version}"`);
  const body = Buffer.from(await latest.arrayBuffer());
  expect(version).toBe(createHash("sha256").update(body).digest("hex").slice(0, 16));

  const pinned = await fetch(`${app.baseUrl}/fz.${version}.js`);
  expect(pinned.status).toBe(200);
  expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  expect(pinned.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  expect(pinned.headers.get("access-control-allow-origin")).toBe("*");
  expect(Buffer.from(await pinned.arrayBuffer()).equals(body)).toBe(true);
  expect(pinned.headers.get("x-snippet-integrity")).toBe(
    `sha384-${createHash("sha384").update(body).digest("base64")}`,
  );

  const other = version.replace(/^./, (c) => (c === "0" ? "1" : "0"));
  const gone = await fetch(`${app.baseUrl}/fz.${other}.js`);
  expect(gone.status).toBe(404);
  expect(((await gone.json()) as { message: string }).message).toContain(`this server has ${version}`);
});
