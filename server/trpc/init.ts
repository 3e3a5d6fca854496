import { initTRPC } from "@trpc/server";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { TContext } from "./context.ts";
import type { TProcedureMeta } from "./meta.types.ts";
import { errorEnvelope } from "../errors/error-envelope.ts";

const t = initTRPC
  .context<TContext>()
  .meta<TProcedureMeta>()
  .create({
    // Stack traces never reach a client, whatever NODE_ENV says (docs/trpc-openapi.md #7).
    isDev: false,
    errorFormatter({ shape, error, ctx, path }) {
      const envelope = errorEnvelope(error, { path, requestId: ctx?.requestId });
      return { ...shape, code: TRPC_ERROR_CODES_BY_KEY[envelope.data.code], ...envelope };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const procedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
