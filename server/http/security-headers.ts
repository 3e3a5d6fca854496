import type { RequestHandler } from "express";
import helmet, { contentSecurityPolicy } from "helmet";

/**
 * helmet's headers on every response (nosniff, Referrer-Policy: no-referrer, X-Frame-Options,
 * HSTS, …), with a Content-Security-Policy that lets a JSON response do nothing at all: no
 * scripts, no framing, no forms. The docs page gets its own policy (`docsContentSecurityPolicy`).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
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
  });
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

/** Answers that depend on who is logged in must never be stored by a browser or a shared cache. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader("Cache-Control", "no-store");
  next();
};
