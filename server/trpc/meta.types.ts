import type { OpenApiMeta } from "trpc-to-openapi";
import type { TErrorData } from "../errors/error-envelope.ts";

/** An error body as the examples give it; the builder adds the code, status, path and request id. */
export type TErrorExample = Pick<TErrorData, "reason" | "issues"> & { message: string };

/**
 * A procedure's own OpenAPI examples, declared next to its schemas in its `.types.ts`. `request`
 * is the body "Try it out" sends: the server must accept it as it is once the ids are replaced.
 * An error status without one here gets the document's fallback for that status.
 */
export type TProcedureExamples = {
  request?: Record<string, unknown>;
  errors?: { 400?: TErrorExample; 401?: TErrorExample; 403?: TErrorExample };
};

/** A REST request body of a procedure's input: `workspaceId` goes in the query string (docs/trpc-openapi.md #1). */
export type TRestBody<TInput> = Omit<TInput, "workspaceId">;

/** The meta every procedure is given (`initTRPC.meta<TProcedureMeta>()`): the generator's, plus the examples. */
export type TProcedureMeta = OpenApiMeta<{ examples?: TProcedureExamples }>;
