import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "../server/trpc/router.ts";

type TFetch = typeof globalThis.fetch;

export type TDashboardClientOptions = {
  /** Origin of the service, e.g. `http://localhost:3000` (a trailing slash is ignored). */
  baseUrl: string;
  /** The session cookie (`fse.sid=…`), or a function read on every call (e.g. a cookie jar's). */
  cookie?: string | (() => string | undefined);
  /** Defaults to the global fetch. */
  fetch?: TFetch;
};

/**
 * The typed tRPC client the dashboard (and the tests) use: one request per call (`httpLink`, no
 * batching, so rate limits and errors map one-to-one to procedures) to `${baseUrl}/api/trpc`,
 * authenticated by the session cookie.
 */
export function createDashboardClient({ baseUrl, cookie, fetch }: TDashboardClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${baseUrl.replace(/\/+$/, "")}/api/trpc`,
        fetch,
        headers: () => {
          const value = typeof cookie === "function" ? cookie() : cookie;
          return value ? { cookie: value } : {};
        },
      }),
    ],
  });
}

export type TDashboardClient = ReturnType<typeof createDashboardClient>;

/**
 * A one-origin cookie jar for non-browser callers (Node keeps no cookies): its `fetch` stores the
 * cookies a response sets (the session id changes on login) and sends them with every request
 * that carries no cookie of its own, so it serves as the `fetch` of any client (openapi-fetch,
 * the tRPC client). `jar.cookie` reads the current value.
 */
export function createCookieJar(baseFetch: TFetch = globalThis.fetch) {
  const cookies = new Map<string, string>();
  const cookie = () => (cookies.size ? [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") : undefined);
  const fetch: TFetch = async (input, init) => {
    const request = new Request(input, init);
    const value = cookie();
    if (value && !request.headers.has("cookie")) request.headers.set("cookie", value);
    const response = await baseFetch(request);
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";", 1)[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // An expired or emptied cookie (logout) is dropped.
      if (value === "" || /;\s*max-age=0\b/i.test(line) || /expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  return { fetch, cookie };
}
