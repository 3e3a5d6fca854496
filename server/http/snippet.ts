import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Router, type Request, type Response } from "express";
import { DomainError } from "../errors/domain-error.ts";
import { sendError } from "./errors.ts";

/** The built snippet's file name in the web directory (`client/build-web.ts`). */
export const SNIPPET_FILE = "fz.js";
/** How long a browser or CDN may use `/fz.js` before revalidating it (by ETag): fixes reach pages within minutes. */
export const SNIPPET_MAX_AGE_SECONDS = 300;

type TSnippet = { body: Buffer; etag: string; version: string; integrity: string };

/** `/fz.<version>.js`: the snippet pinned to one build, by the first 16 hex digits of its SHA-256. */
const PINNED = /^\/fz\.([0-9a-f]{16})\.js$/;

/**
 * `GET /fz.js`, the tracking snippet, to be loaded by other sites' pages: cacheable for a few
 * minutes and revalidated by ETag, with `Cross-Origin-Resource-Policy: cross-origin` (the
 * security headers say same-origin everywhere else). Read from `webDir` once it has been built.
 * Its version (`X-Snippet-Version`, also the ETag) names a pinned copy, `/fz.<version>.js`,
 * cached for a year: the URL for a page that wants Subresource Integrity (`X-Snippet-Integrity`)
 * and takes updates only when it changes the tag. A version this build does not have is a 404.
 */
export function snippetRoutes(webDir: string): Router {
  const routes = Router();
  let snippet: TSnippet | undefined;
  const load = () => (snippet ??= readSnippet(webDir));
  routes.get(`/${SNIPPET_FILE}`, (req, res) => {
    const current = load();
    if (!current) return sendError(req, res, notBuilt());
    send(req, res, current, `public, max-age=${SNIPPET_MAX_AGE_SECONDS}`);
  });
  routes.get(PINNED, (req, res) => {
    const current = load();
    if (!current) return sendError(req, res, notBuilt());
    if (PINNED.exec(req.path)?.[1] !== current.version) return sendError(req, res, unknownVersion(current.version));
    send(req, res, current, "public, max-age=31536000, immutable");
  });
  return routes;
}

function send(req: Request, res: Response, snippet: TSnippet, cacheControl: string): void {
  res.setHeader("Content-Type", "text/javascript; charset=utf-8");
  res.setHeader("Cache-Control", cacheControl);
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
  // Public code: any page may read it, which a `crossorigin` tag with Subresource Integrity needs.
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("ETag", snippet.etag);
  res.setHeader("X-Snippet-Version", snippet.version);
  res.setHeader("X-Snippet-Integrity", snippet.integrity);
  const known = req.headers["if-none-match"]?.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  if (known?.includes(snippet.etag)) return void res.status(304).end();
  res.send(snippet.body);
}

function readSnippet(webDir: string): TSnippet | undefined {
  let body: Buffer;
  try {
    body = readFileSync(join(webDir, SNIPPET_FILE));
  } catch {
    return undefined;
  }
  const version = createHash("sha256").update(body).digest("hex").slice(0, 16);
  const integrity = `sha384-${createHash("sha384").update(body).digest("base64")}`;
  return { body, etag: `"${version}"`, version, integrity };
}

function unknownVersion(current: string): DomainError {
  return new DomainError("NOT_FOUND", `No such snippet version: this server has ${current} (or use /fz.js)`);
}

function notBuilt(): DomainError {
  return new DomainError("NOT_FOUND", "The tracking snippet is not built: run npm run build:web (npm start does)");
}
