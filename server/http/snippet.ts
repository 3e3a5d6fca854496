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

type TSnippet = { body: Buffer; etag: string };

/**
 * `GET /fz.js`, the tracking snippet, to be loaded by other sites' pages: cacheable for a few
 * minutes and revalidated by ETag, with `Cross-Origin-Resource-Policy: cross-origin` (the
 * security headers say same-origin everywhere else). Read from `webDir` once it has been built.
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
  return routes;
}

function send(req: Request, res: Response, snippet: TSnippet, cacheControl: string): void {
  res.setHeader("Content-Type", "text/javascript; charset=utf-8");
  res.setHeader("Cache-Control", cacheControl);
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
  res.setHeader("ETag", snippet.etag);
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
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return { body, etag: `"${hash}"` };
}

function notBuilt(): DomainError {
  return new DomainError("NOT_FOUND", "The tracking snippet is not built: run npm run build:web (npm start does)");
}
