import type { SoakLedger } from "./soak-ledger.ts";

/** A request that has not answered by then counts as "no response" (a failure, like a 5xx). */
const REQUEST_TIMEOUT_MS = 30_000;

export type TInstance = { name: string; baseUrl: string };
export type THttpResult = { status: number; body: unknown; headers?: Headers };

/** One HTTP exchange, counted in the ledger whatever happens; status 0 when nothing came back. */
export async function exchange(
  ledger: SoakLedger,
  label: string,
  url: string,
  init: RequestInit = {},
): Promise<THttpResult> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    ledger.countResponse(label, res.status, `${res.headers.get("x-request-id") ?? ""} ${text}`);
    return { status: res.status, body: parseJson(text), headers: res.headers };
  } catch (err) {
    ledger.countResponse(label, 0, err instanceof Error ? err.message : String(err));
    return { status: 0, body: undefined };
  }
}

export function jsonPost(body: string, cookie?: string, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}), ...headers },
  };
}

export const restWriteUrl = (base: string, workspaceId: string) =>
  `${base}/api/tracking/server-events?workspaceId=${encodeURIComponent(workspaceId)}`;
export const trpcUrl = (base: string, procedure: string) => `${base}/api/trpc/${procedure}`;
export const trpcQueryUrl = (base: string, procedure: string, input: unknown) =>
  `${trpcUrl(base, procedure)}?input=${encodeURIComponent(JSON.stringify(input))}`;

/** A tRPC answer's payload (`result.data`), or the REST body as is. */
export function payloadOf(result: THttpResult): unknown {
  const body = result.body;
  return body && typeof body === "object" && "result" in body
    ? (body as { result?: { data?: unknown } }).result?.data
    : body;
}

/** Seconds to wait before a retry: the server's `Retry-After`, bounded so the soak stays bounded. */
export function retryDelayMs(result: THttpResult, attempt: number): number {
  const after = Number(result.headers?.get("retry-after"));
  return Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : 100 * 2 ** attempt, 2000);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
