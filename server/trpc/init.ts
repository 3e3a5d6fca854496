import { initTRPC } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { DomainError, type TIssue } from "../errors/domain-error.ts";
import type { TContext } from "./context.ts";
import { TRPC_TO_REASON } from "./error-map.ts";

/** Zod issues (and DomainError issues) in one machine-readable shape naming the field. */
export function issuesOf(cause: unknown): TIssue[] {
  if (cause instanceof DomainError) return cause.issues;
  if (cause instanceof Error && cause.name === "ZodError" && Array.isArray((cause as { issues?: unknown }).issues)) {
    return (cause as unknown as { issues: { path: PropertyKey[]; code: string; message: string }[] }).issues.map((i) => ({
      path: i.path.filter((p): p is string | number => typeof p !== "symbol"),
      code: i.code,
      message: i.message,
    }));
  }
  return [];
}

const t = initTRPC
  .context<TContext>()
  .meta<OpenApiMeta>()
  .create({
    // Stack traces never reach a client, whatever NODE_ENV says (docs/trpc-openapi.md #7).
    isDev: false,
    errorFormatter({ shape, error, ctx, path }) {
      const domain = error.cause instanceof DomainError ? error.cause : undefined;
      const internal = error.code === "INTERNAL_SERVER_ERROR" && !domain;
      const showInternal = ctx?.config.env === "development";
      // tRPC reports an unparsable body as BAD_REQUEST caused by the SyntaxError, and a zod failure
      // with the issues serialized as the message: give both the reason and message REST gives.
      const malformed = error.code === "BAD_REQUEST" && error.cause instanceof SyntaxError;
      const invalidInput = error.code === "BAD_REQUEST" && error.cause?.name === "ZodError";
      const message = malformed
        ? "Request body is not valid JSON"
        : invalidInput
          ? "Input validation failed"
          : internal && !showInternal
            ? "Internal server error"
            : shape.message;
      return {
        ...shape,
        message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: path ?? null,
          reason: malformed ? "MALFORMED_JSON" : (domain?.code ?? TRPC_TO_REASON[error.code] ?? "INTERNAL"),
          issues: issuesOf(error.cause),
          requestId: ctx?.requestId ?? null,
        },
      };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const procedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
