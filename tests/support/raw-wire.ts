import type { TTransport } from "./wire.ts";

/** The routes of a POST procedure on each transport. */
export const ROUTES = {
  record: { rest: "/api/tracking/server-events", trpc: "/api/trpc/tracking.recordServerEvents" },
  login: { rest: "/api/auth/login", trpc: "/api/trpc/auth.login" },
} as const;

export type TRawAnswer = {
  status: number;
  /** The error's `data` (REST `data`, tRPC `error.data`), when the answer is an error in our shape. */
  data?: {
    reason?: unknown;
    issues?: { path: (string | number)[]; message: string }[];
    requestId?: unknown;
    httpStatus?: unknown;
  };
  text: string;
};

/**
 * A POST of raw bytes, as an attacker sends it, to either transport. `workspaceId` goes in the
 * query string on REST and is spliced into the (object) body on tRPC, as the two clients do.
 */
export async function rawPost(
  baseUrl: string,
  transport: TTransport,
  route: keyof typeof ROUTES,
  body: string | Uint8Array,
  opts: { workspaceId?: string; headers?: Record<string, string>; cookie?: string } = {},
): Promise<TRawAnswer> {
  let url = `${baseUrl}${ROUTES[route][transport]}`;
  let payload = body;
  if (opts.workspaceId !== undefined) {
    if (transport === "rest") url += `?workspaceId=${percentEncode(opts.workspaceId)}`;
    else if (typeof body === "string" && body.startsWith("{")) {
      const rest = body.slice(1).trimStart();
      payload = `{"workspaceId":${JSON.stringify(opts.workspaceId)}${rest.startsWith("}") ? "" : ","}${rest}`;
    }
  }
  const headers = {
    "content-type": "application/json",
    ...(opts.cookie ? { cookie: opts.cookie } : {}),
    ...opts.headers,
  };
  const res = await fetch(url, { method: "POST", headers, body: payload });
  const text = await res.text();
  return { status: res.status, data: errorDataOf(transport, text), text };
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is sent as the three bytes
 * a sloppy encoder would write, e.g. %ED%B0%80: not UTF-8, as an attacker may send.
 */
function percentEncode(value: string): string {
  return value.replace(/[\s\S]/gu, (ch) => {
    const c = ch.charCodeAt(0);
    if (ch.length > 1 || c < 0xd800 || c > 0xdfff) return encodeURIComponent(ch);
    return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
      .map((b) => `%${b.toString(16).toUpperCase()}`)
      .join("");
  });
}

function errorDataOf(transport: TTransport, text: string): TRawAnswer["data"] {
  try {
    const json = JSON.parse(text) as { data?: TRawAnswer["data"]; error?: { data?: TRawAnswer["data"] } };
    return transport === "trpc" ? json.error?.data : json.data;
  } catch {
    return undefined;
  }
}

/** A JSON object nested `depth` levels deep, as text (`{"a":{"a":…1…}}`), built without recursion. */
export function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{"a":1}${"}".repeat(depth - 1)}`;
}
