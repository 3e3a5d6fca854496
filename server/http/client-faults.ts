import type { Request, Response } from "express";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import { routeLabel } from "./observability.ts";

/** What a client did wrong with its request's bytes; the label of `http_client_errors_total`. */
export type TClientFaultKind = "aborted" | "too_large" | "malformed" | "unsupported_encoding" | "invalid";

const METRIC = "http_client_errors_total";
const METRIC_HELP = "Requests refused for the client's own fault with its body: aborted, too large, malformed…";

/** body-parser and raw-body mark their errors with a `type`; those the client caused. */
const BY_TYPE: Record<string, TClientFaultKind> = {
  "request.aborted": "aborted",
  "entity.too.large": "too_large",
  "entity.parse.failed": "malformed",
  "request.size.invalid": "malformed",
  "encoding.unsupported": "unsupported_encoding",
  "charset.unsupported": "unsupported_encoding",
};

/**
 * The client fault behind an error from reading a body, if it is one: body-parser's types, or the
 * request stream's own error when the client goes away mid-body (`ECONNRESET`, "aborted").
 */
export function clientFaultOf(err: unknown): TClientFaultKind | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { type, code, message } = err as { type?: unknown; code?: unknown; message?: unknown };
  if (typeof type === "string" && BY_TYPE[type]) return BY_TYPE[type];
  if (code === "ECONNRESET" || code === "ECONNABORTED" || message === "aborted") return "aborted";
  return undefined;
}

/**
 * Counts a client fault and logs it at info, without a stack: any client can cause one at will,
 * so it must not fill the error log nor page anyone; the counter shows a surge.
 */
export function recordClientFault(
  deps: { logger: TLogger; metrics: Metrics },
  req: Request,
  res: Response,
  kind: TClientFaultKind,
  message: string,
): void {
  deps.metrics.inc(METRIC, METRIC_HELP, { kind });
  const requestId: unknown = res.locals.requestId;
  deps.logger.info("client error", { kind, message, requestId, path: routeLabel(req.originalUrl.split("?")[0] ?? "") });
}
