import { uid } from "./fixtures.ts";

/** What a desktop Chrome sends: not a bot. */
export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export type TCollectEvent = {
  type: string;
  visitorId?: string;
  messageId?: string;
  path?: string;
  referrer?: string;
  email?: string;
  userId?: string;
  props?: Record<string, unknown>;
  timestamp?: string;
};

/** A pageview as the snippet sends it: a visitor id, a fresh messageId, a path. */
export function pageview(over: Partial<TCollectEvent> = {}): TCollectEvent {
  return { type: "pageview", visitorId: `v_${uid()}`, messageId: uid() + uid(), path: "/", ...over };
}

export type TCollectRequest = {
  /** The page's origin; null sends none. */
  origin?: string | null;
  userAgent?: string;
  contentType?: string;
  /** `?site=` query parameter. */
  site?: string;
  /** The body as sent: an object is sent as JSON text. */
  body: unknown;
  /** More request headers (X-Forwarded-For, say). */
  headers?: Record<string, string>;
};

/** `POST /api/collect` as a page's snippet would send it (text/plain JSON, a browser's agent). */
export function postCollect(baseUrl: string, req: TCollectRequest): Promise<Response> {
  const headers = new Headers({
    "content-type": req.contentType ?? "text/plain;charset=UTF-8",
    "user-agent": req.userAgent ?? BROWSER_UA,
  });
  if (req.origin !== null) headers.set("origin", req.origin ?? "https://shop.example.com");
  for (const [name, value] of Object.entries(req.headers ?? {})) headers.set(name, value);
  const query = req.site === undefined ? "" : `?site=${encodeURIComponent(req.site)}`;
  const body = typeof req.body === "string" ? req.body : JSON.stringify(req.body);
  return fetch(`${baseUrl}/api/collect${query}`, { method: "POST", headers, body });
}

/** The CORS preflight a browser sends before a JSON POST from `origin`. */
export function preflightCollect(baseUrl: string, origin: string | null, site: string): Promise<Response> {
  const headers = new Headers({
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
  });
  if (origin !== null) headers.set("origin", origin);
  return fetch(`${baseUrl}/api/collect?site=${encodeURIComponent(site)}`, { method: "OPTIONS", headers });
}
