/** Which page a URL is, decoded defensively: no address, however malformed, throws. */

export type TRoute =
  | { page: "login" }
  | { page: "home" }
  | { page: "events"; workspaceId: string; siteId: string }
  | { page: "install"; workspaceId: string; siteId: string }
  | { page: "profile"; workspaceId: string; profileId: string }
  | { page: "search"; workspaceId: string }
  | { page: "notFound" }
  | { page: "badAddress"; part: "path" | "query" };

const PATTERNS: [RegExp, (m: string[]) => TRoute][] = [
  [/^\/app\/login$/, () => ({ page: "login" })],
  [/^\/app\/?$/, () => ({ page: "home" })],
  [/^\/app\/w\/([^/]+)\/sites\/([^/]+)\/events$/, ([, w, s]) => ({ page: "events", workspaceId: w!, siteId: s! })],
  [/^\/app\/w\/([^/]+)\/sites\/([^/]+)\/install$/, ([, w, s]) => ({ page: "install", workspaceId: w!, siteId: s! })],
  [/^\/app\/w\/([^/]+)\/profiles\/([^/]+)$/, ([, w, p]) => ({ page: "profile", workspaceId: w!, profileId: p! })],
  [/^\/app\/w\/([^/]+)\/search$/, ([, w]) => ({ page: "search", workspaceId: w! })],
];

/** `decodeURIComponent` without its `URIError` (a lone `%`, `%E0%A4%A`, an encoded lone surrogate). */
export function decodeOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * `URLSearchParams` silently turns bad percent-encoding into U+FFFD, so a query that would not
 * decode strictly is refused here rather than searched for with altered text.
 */
function wellFormedQuery(search: string): boolean {
  return search
    .replace(/^\?/, "")
    .split("&")
    .every((pair) => decodeOrUndefined(pair.replaceAll("+", " ")) !== undefined);
}

export function matchRoute(path: string, search = ""): TRoute {
  if (decodeOrUndefined(path) === undefined) return { page: "badAddress", part: "path" };
  if (!wellFormedQuery(search)) return { page: "badAddress", part: "query" };
  for (const [pattern, route] of PATTERNS) {
    const match = pattern.exec(path);
    // Each segment decodes on its own, since the whole path did.
    if (match) return route(match.map((part) => decodeOrUndefined(part ?? "") ?? ""));
  }
  return { page: "notFound" };
}

const enc = encodeURIComponent;
export const paths = {
  home: () => "/app/",
  login: (next?: string) => (next ? `/app/login?next=${enc(next)}` : "/app/login"),
  events: (w: string, s: string) => `/app/w/${enc(w)}/sites/${enc(s)}/events`,
  install: (w: string, s: string) => `/app/w/${enc(w)}/sites/${enc(s)}/install`,
  profile: (w: string, p: string) => `/app/w/${enc(w)}/profiles/${enc(p)}`,
  search: (w: string, by: string, q: string) => `/app/w/${enc(w)}/search?by=${enc(by)}&q=${enc(q)}`,
};
