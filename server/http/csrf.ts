import type { RequestHandler } from "express";
import { DomainError } from "../errors/domain-error.ts";
import { sendError } from "./errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cookie-authenticated writes are protected against cross-site forgery three ways: the cookie is
 * SameSite=Lax, a state-changing request must be JSON (a plain HTML form cannot send that), and a
 * browser's cross-site `Origin` (or `Sec-Fetch-Site: cross-site`) is refused unless allowed.
 */
export function csrfGuard(allowedOrigins: readonly string[], publicUrl?: string): RequestHandler {
  // Behind a TLS-terminating proxy the app may see itself as http://; its public origin is its own too.
  const trusted = publicUrl ? [...allowedOrigins, new URL(publicUrl).origin] : allowedOrigins;
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const type = req.headers["content-type"] ?? "";
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if ((hasBody || type) && !/^application\/json\s*(;|$)/i.test(type)) {
      return sendError(
        req,
        res,
        new DomainError(
          "UNSUPPORTED_MEDIA_TYPE",
          `Send the body as application/json (got ${type ? `"${type}"` : "no content type"})`,
        ),
      );
    }
    const origin = req.headers.origin;
    // A write with no body at all (curl's `-X POST` to log out) is an empty JSON request: the
    // adapters refuse a POST without a content type, and there is nothing here a form could forge.
    if (!hasBody && !type) req.headers["content-type"] = "application/json";
    if (origin !== undefined) {
      const own = `${req.protocol}://${req.get("host")}`;
      if (origin !== own && !trusted.includes(origin)) {
        return sendError(
          req,
          res,
          new DomainError("CROSS_SITE_REQUEST", `Cross-site request from origin ${origin} refused`),
        );
      }
    } else if (req.headers["sec-fetch-site"] === "cross-site") {
      return sendError(req, res, new DomainError("CROSS_SITE_REQUEST", "Cross-site request refused"));
    }
    next();
  };
}
