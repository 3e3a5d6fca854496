import { TRPCClientError } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../../server/trpc/router.ts";
import { createDashboardClient } from "../../trpc-client.ts";

type TOutputs = inferRouterOutputs<AppRouter>;
export type TSessionUser = TOutputs["auth"]["me"];
export type TSite = TOutputs["sites"]["list"]["items"][number];
export type TTrackingEvent = TOutputs["tracking"]["listEvents"]["items"][number];
export type TProfilePage = TOutputs["profiles"]["get"];
export type TTimelineItem = TProfilePage["timeline"]["items"][number];
export type TRecordResult = TOutputs["tracking"]["recordServerEvents"];
export type TCollectStats = TOutputs["sites"]["collectStats"];

let onSessionEnded: () => void = () => undefined;

/** Called when any call but the login answers 401: the session expired or was revoked. */
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

/**
 * The typed client on this page's origin. The browser sends the session cookie itself on
 * same-origin requests, and its `Origin` header plus tRPC's JSON content type pass the CSRF guard.
 */
export const api = createDashboardClient({
  baseUrl: location.origin,
  fetch: async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (response.status === 401 && !/\/auth\.(login|me)\b/.test(url)) onSessionEnded();
    return response;
  },
});

export type TApiError = {
  message: string;
  reason?: string;
  status?: number;
  issues: { path: (string | number)[]; message: string }[];
  requestId?: string;
};

/** The error envelope (`message`, `data.reason`, `data.issues`) as the page shows it; never empty. */
export function toApiError(err: unknown): TApiError {
  if (err instanceof TRPCClientError) {
    const data = (err.data ?? {}) as {
      reason?: string;
      httpStatus?: number;
      issues?: TApiError["issues"];
      requestId?: string | null;
    };
    return {
      message: err.message || "The request failed",
      reason: data.reason,
      status: data.httpStatus,
      issues: data.issues ?? [],
      requestId: data.requestId ?? undefined,
    };
  }
  const message = err instanceof Error && err.message ? err.message : "Something went wrong";
  return { message, issues: [] };
}
