import { TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createDashboardClient, type TDashboardClient } from "../../client/trpc-client.ts";
import type { AppRouter } from "../../server/trpc/router.ts";
import { startTestApp, type TTestApp } from "./test-app.ts";

/** Every over-the-wire case runs once per transport: REST (plain fetch) and tRPC (the typed client). */
export const TRANSPORTS = ["rest", "trpc"] as const;
export type TTransport = (typeof TRANSPORTS)[number];

/** Table rows × transports, for `it.each(acrossTransports(cases))("$transport: $name", …)`. */
export function acrossTransports<C extends object>(cases: readonly C[]): (C & { transport: TTransport })[] {
  return cases.flatMap((c) => TRANSPORTS.map((transport) => ({ ...c, transport })));
}

type TInputs = inferRouterInputs<AppRouter>;
type TOutputs = inferRouterOutputs<AppRouter>;
export type TRecordInput = TInputs["tracking"]["recordServerEvents"];
export type TRecordOutput = TOutputs["tracking"]["recordServerEvents"];
export type TServerEventInput = TRecordInput["events"][number];
export type TLookupInput = TInputs["profiles"]["lookup"];
export type TLookupOutput = TOutputs["profiles"]["lookup"];
export type TGetProfileInput = TInputs["profiles"]["get"];
export type TGetProfileOutput = TOutputs["profiles"]["get"];
export type TListEventsInput = TInputs["tracking"]["listEvents"];
export type TListEventsOutput = TOutputs["tracking"]["listEvents"];

export type TWireIssue = { path: (string | number)[]; code: string; message: string };

/** What either transport answered, in one shape: `status` is the HTTP status (tRPC: `error.data.httpStatus`). */
export type TWireResult<T> =
  | { ok: true; status: number; body: T; headers: Headers }
  | {
      ok: false;
      status: number;
      reason: string;
      message: string;
      issues: TWireIssue[];
      data: Record<string, unknown>;
      headers: Headers;
    };

export type TCallOptions = {
  /** The `name=value` session cookie; none when absent. */
  cookie?: string;
  /** Extra or replaced request headers (e.g. `origin`, `content-type`), on either transport. */
  headers?: Record<string, string>;
};

/** A value the typed client would refuse at compile time, for validation cases. */
export const unchecked = <T>(value: unknown): T => value as T;

/**
 * Calls the procedures under test over the wire. REST: `fetch` to the OpenAPI routes with the
 * cookie. tRPC: the dashboard's typed client, whose fetch is wrapped only to see the response
 * headers (RateLimit-*, Retry-After) and to add `opts.headers`.
 */
export function createWire(app: { baseUrl: string }) {
  async function viaTrpc<T>(
    opts: TCallOptions,
    call: (client: TDashboardClient) => Promise<T>,
  ): Promise<TWireResult<T>> {
    let response: Response | undefined;
    const client = createDashboardClient({
      baseUrl: app.baseUrl,
      cookie: opts.cookie,
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
        response = await fetch(input, { ...init, headers });
        return response;
      },
    });
    try {
      const body = await call(client);
      return { ok: true, status: response!.status, body, headers: response!.headers };
    } catch (err) {
      if (!(err instanceof TRPCClientError) || !response) throw err;
      const data = (err.data ?? {}) as Record<string, unknown>;
      if (data.httpStatus !== response.status)
        throw new Error(`tRPC error.data.httpStatus ${String(data.httpStatus)} but HTTP ${response.status}`);
      return errorResult(response.status, err.message, data, response.headers);
    }
  }

  async function viaRest<T>(
    method: "GET" | "POST",
    path: string,
    query: Record<string, unknown>,
    body: unknown,
    opts: TCallOptions,
  ): Promise<TWireResult<T>> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) search.set(key, typeof value === "string" ? value : JSON.stringify(value));
    const headers = new Headers(opts.cookie ? { cookie: opts.cookie } : {});
    if (method === "POST") headers.set("content-type", "application/json");
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
    const res = await fetch(`${app.baseUrl}/api${path}${search.size ? `?${search.toString()}` : ""}`, {
      method,
      headers,
      body: method === "POST" ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.ok) return { ok: true, status: res.status, body: json as T, headers: res.headers };
    return errorResult(res.status, json.message, (json.data ?? {}) as Record<string, unknown>, res.headers);
  }

  const queryOf = (input: object, without: string[] = []) =>
    Object.fromEntries(Object.entries(input).filter(([k]) => !without.includes(k)));

  return {
    /** `POST /api/tracking/server-events?workspaceId=…` or `tracking.recordServerEvents.mutate`. */
    record(transport: TTransport, input: TRecordInput, opts: TCallOptions = {}): Promise<TWireResult<TRecordOutput>> {
      if (transport === "trpc") return viaTrpc(opts, (c) => c.tracking.recordServerEvents.mutate(input));
      const { workspaceId, ...body } = input;
      return viaRest("POST", "/tracking/server-events", { workspaceId }, body, opts);
    },
    /** `GET /api/profiles/lookup?…` or `profiles.lookup.query`. */
    lookup(transport: TTransport, input: TLookupInput, opts: TCallOptions = {}): Promise<TWireResult<TLookupOutput>> {
      if (transport === "trpc") return viaTrpc(opts, (c) => c.profiles.lookup.query(input));
      return viaRest("GET", "/profiles/lookup", queryOf(input), undefined, opts);
    },
    /** `GET /api/profiles/{profileId}?…` or `profiles.get.query`. */
    getProfile(
      transport: TTransport,
      input: TGetProfileInput,
      opts: TCallOptions = {},
    ): Promise<TWireResult<TGetProfileOutput>> {
      if (transport === "trpc") return viaTrpc(opts, (c) => c.profiles.get.query(input));
      return viaRest(
        "GET",
        `/profiles/${encodeURIComponent(input.profileId)}`,
        queryOf(input, ["profileId"]),
        undefined,
        opts,
      );
    },
    /** `GET /api/tracking/events?…` or `tracking.listEvents.query`. */
    listEvents(
      transport: TTransport,
      input: TListEventsInput,
      opts: TCallOptions = {},
    ): Promise<TWireResult<TListEventsOutput>> {
      if (transport === "trpc") return viaTrpc(opts, (c) => c.tracking.listEvents.query(input));
      return viaRest("GET", "/tracking/events", queryOf(input), undefined, opts);
    },
  };
}

export type TWire = ReturnType<typeof createWire>;

/** A test app and a wire to it: what each over-the-wire test file starts with. */
export async function startWiredApp(
  opts?: Parameters<typeof startTestApp>[0],
): Promise<{ app: TTestApp; wire: TWire }> {
  const app = await startTestApp(opts);
  return { app, wire: createWire(app) };
}

function errorResult(
  status: number,
  message: unknown,
  data: Record<string, unknown>,
  headers: Headers,
): TWireResult<never> {
  return {
    ok: false,
    status,
    reason: String(data.reason),
    message: String(message),
    issues: (data.issues ?? []) as TWireIssue[],
    data,
    headers,
  };
}

/** The body of a successful answer; fails the test with the error otherwise. */
export function okBody<T>(result: TWireResult<T>): T {
  if (!result.ok)
    throw new Error(
      `expected 200, got ${result.status} ${result.reason}: ${result.message} ${JSON.stringify(result.issues)}`,
    );
  return result.body;
}

/** The error of a failed answer; fails the test when the call succeeded. */
export function errorOf(result: TWireResult<unknown>) {
  if (result.ok)
    throw new Error(`expected an error, got ${result.status}: ${JSON.stringify(result.body).slice(0, 300)}`);
  return result;
}
