import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import helmet, { contentSecurityPolicy } from "helmet";

/**
 * helmet's headers on every response (nosniff, Referrer-Policy: no-referrer, X-Frame-Options,
 * HSTS, …), with a Content-Security-Policy that lets a JSON response do nothing at all: no
 * scripts, no framing, no forms. The docs page gets its own policy (`docsContentSecurityPolicy`).
 */
export function securityHeaders(): RequestHandler {
  return replayed(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'none'"],
          "frame-ancestors": ["'none'"],
          "base-uri": ["'none'"],
          "form-action": ["'none'"],
        },
      },
      frameguard: { action: "deny" },
      referrerPolicy: { policy: "no-referrer" },
    }),
  );
}

/**
 * helmet's headers do not depend on the request, but helmet recomputes them through a chain of
 * a dozen middlewares on every response. Record what it does once, and replay that: the same
 * headers, set and removed in the same order, for a fraction of the CPU.
 */
function replayed(headers: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) {
  const steps: ((res: ServerResponse) => void)[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      steps.push((res) => res.setHeader(name, value));
      return recorder;
    },
    removeHeader(name: string) {
      steps.push((res) => res.removeHeader(name));
    },
  };
  let called = false;
  headers({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err) throw new Error("security headers: helmet failed", { cause: err });
    called = true;
  });
  if (!called) throw new Error("security headers: helmet did not finish synchronously");
  const handler: RequestHandler = (_req, res, next) => {
    for (const step of steps) step(res);
    next();
  };
  return handler;
}

/**
 * Swagger UI at /api/docs, entirely from this server (works offline): its scripts and stylesheet
 * are files served next to the page, but it writes inline `<style>` blocks and style attributes
 * and draws icons from data: URIs; "Try it out" calls the API on the same origin.
 */
export function docsContentSecurityPolicy(): RequestHandler {
  return contentSecurityPolicy({
    useDefaults: false,
    directives: {
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'", "'unsafe-inline'"],
      "img-src": ["'self'", "data:"],
      "connect-src": ["'self'"],
      "object-src": ["'none'"],
      "frame-ancestors": ["'none'"],
      "base-uri": ["'self'"],
      "form-action": ["'self'"],
    },
  });
}

/**
 * The dashboard's own policy: its script and stylesheet are files from this server, it talks to
 * the API on the same origin only, and no page may frame it.
 */
export function dashboardContentSecurityPolicy(): RequestHandler {
  return contentSecurityPolicy({
    useDefaults: false,
    directives: {
      "default-src": ["'none'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "connect-src": ["'self'"],
      "img-src": ["'self'", "data:"],
      "frame-ancestors": ["'none'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
    },
  });
}

/** Answers that depend on who is logged in must never be stored by a browser or a shared cache. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader("Cache-Control", "no-store");
  next();
};
