import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();
addEventListener("popstate", () => listeners.forEach((l) => l()));

/** Moves to another page of the app without reloading (History API). */
export function navigate(to: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  listeners.forEach((l) => l());
}

/** The current path and query, re-rendering on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((t) => t + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export type TRoute =
  | { page: "login" }
  | { page: "home" }
  | { page: "events"; workspaceId: string; siteId: string }
  | { page: "install"; workspaceId: string; siteId: string }
  | { page: "profile"; workspaceId: string; profileId: string }
  | { page: "search"; workspaceId: string }
  | { page: "notFound" };

const PATTERNS: [RegExp, (m: string[]) => TRoute][] = [
  [/^\/app\/login$/, () => ({ page: "login" })],
  [/^\/app\/?$/, () => ({ page: "home" })],
  [/^\/app\/w\/([^/]+)\/sites\/([^/]+)\/events$/, ([, w, s]) => ({ page: "events", workspaceId: w!, siteId: s! })],
  [/^\/app\/w\/([^/]+)\/sites\/([^/]+)\/install$/, ([, w, s]) => ({ page: "install", workspaceId: w!, siteId: s! })],
  [/^\/app\/w\/([^/]+)\/profiles\/([^/]+)$/, ([, w, p]) => ({ page: "profile", workspaceId: w!, profileId: p! })],
  [/^\/app\/w\/([^/]+)\/search$/, ([, w]) => ({ page: "search", workspaceId: w! })],
];

export function matchRoute(path: string): TRoute {
  for (const [pattern, route] of PATTERNS) {
    const match = pattern.exec(path);
    if (match) return route(match.map((part) => decodeURIComponent(part ?? "")));
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
