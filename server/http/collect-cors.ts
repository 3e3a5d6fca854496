import type { Response } from "express";
import { DomainError } from "../errors/domain-error.ts";

/** How long a browser may reuse an answered preflight, in seconds (Chromium caps it at 2 hours). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Whether a browser `Origin` belongs to a site: its host is the site's domain or a subdomain of
 * it (`shop.example.com` for `example.com`; never `evilexample.com`), over http or https and on
 * any port, in every environment. The check keeps other websites' pages from feeding a site's
 * funnel; it is not authentication (a script outside a browser can send any Origin).
 */
export function originMatchesDomain(origin: string | undefined, domain: string): boolean {
  const host = hostOf(origin);
  const site = domain.trim().toLowerCase().replace(/\.$/, "");
  return host !== undefined && site !== "" && (host === site || host.endsWith(`.${site}`));
}

function hostOf(origin: string | undefined): string | undefined {
  if (!origin || origin === "null") return undefined;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

/** 403 for a request whose Origin is missing or not the site's domain (sent without any CORS header). */
export function originRefused(origin: string | undefined, domain: string): DomainError {
  const message = origin
    ? `Origin ${origin} is not ${domain} or one of its subdomains`
    : "No Origin header: the tracking snippet's requests come from a browser page of the site";
  return new DomainError("CROSS_SITE_REQUEST", message, [
    { path: ["origin"], code: "origin_not_allowed", message: `must be a page of ${domain} or a subdomain` },
  ]);
}

/**
 * Lets the page at `origin` read the answer (no credentials: the snippet sends no cookies to us),
 * and its Retry-After, which the snippet's debug log reports.
 */
export function allowOrigin(res: Response, origin: string): void {
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Access-Control-Expose-Headers", "Retry-After");
}

/** The preflight's answer for an allowed origin: POST with a Content-Type header, cached for a while. */
export function answerPreflight(res: Response, origin: string): void {
  allowOrigin(res, origin);
  res.setHeader("Access-Control-Allow-Methods", "POST");
  res.setHeader("Access-Control-Allow-Headers", "Content-Type");
  res.setHeader("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
  res.status(204).end();
}
