import type { RequestHandler } from "express";
import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import type { AppRouter } from "../trpc/router.ts";

type TSchema = { type?: string | string[]; properties?: Record<string, TSchema>; required?: string[]; description?: string; [k: string]: unknown };
type TOperation = { requestBody?: { content?: Record<string, { schema?: TSchema }> }; parameters?: unknown[]; responses?: Record<string, { content?: Record<string, { schema?: TSchema }> }> };

/** Body keys that REST callers pass in the query string (trpc-to-openapi would put them in the body). */
export const QUERY_SCOPED_KEYS = ["workspaceId"] as const;

/**
 * trpc-to-openapi never reads a POST's query string (PLATFORM.md pitfall 1): copy the scoped
 * keys from the query into the parsed JSON body, the query winning over a body field.
 */
export const copyQueryScopeIntoBody: RequestHandler = (req, _res, next) => {
  if (req.method !== "GET" && req.body && typeof req.body === "object" && !Array.isArray(req.body)) {
    for (const key of QUERY_SCOPED_KEYS) {
      const value = req.query[key];
      if (typeof value === "string") (req.body as Record<string, unknown>)[key] = value;
    }
  }
  next();
};

/** The OpenAPI 3 document, generated from the router and corrected where the generator falls short. */
export function buildOpenApiDocument(router: AppRouter, opts: { baseUrl: string; cookieName: string }): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: "Server-side events API",
    version: "1.0.0",
    description:
      "Records events that happen on your server onto the same event log and profile timelines as browser tracking. " +
      "Authenticate with the session cookie from POST /auth/login (the same procedures are served over tRPC at /api/trpc).",
    baseUrl: opts.baseUrl,
    securitySchemes: { sessionCookie: { type: "apiKey", in: "cookie", name: opts.cookieName, description: "Session cookie set by POST /auth/login." } },
  });
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of ["post", "put", "patch"] as const) {
      const op = (item as Record<string, TOperation | undefined>)[method];
      if (op) moveScopeToQuery(op);
    }
    for (const op of Object.values(item as Record<string, TOperation>)) if (op?.responses) allowErrorData(op, doc);
  }
  return doc;
}

function moveScopeToQuery(op: TOperation): void {
  const schema = op.requestBody?.content?.["application/json"]?.schema;
  for (const key of QUERY_SCOPED_KEYS) {
    const prop = schema?.properties?.[key];
    if (!schema || !prop) continue;
    delete schema.properties![key];
    schema.required = schema.required?.filter((k) => k !== key);
    op.parameters = [
      ...(op.parameters ?? []),
      { name: key, in: "query", required: true, description: prop.description, schema: { ...prop, description: undefined } },
    ];
  }
}

/**
 * The generated error schemas forbid extra keys, but error bodies carry `data`, and their
 * `issues` are zod's, with `path`, `code` and more (pitfall 9). The generator puts most error
 * schemas in `components` behind a `$ref`: those are fixed where they live.
 */
function allowErrorData(op: TOperation, doc: OpenAPIObject): void {
  for (const [status, res] of Object.entries(op.responses ?? {})) {
    if (!/^[45]/.test(status)) continue;
    const schema = res.content?.["application/json"]?.schema;
    const ref = typeof schema?.$ref === "string" ? schema.$ref.match(/^#\/components\/schemas\/(.+)$/)?.[1] : undefined;
    const target = ref ? (doc.components?.schemas?.[ref] as TSchema | undefined) : schema;
    if (target?.properties) declareErrorData(target);
  }
}

function declareErrorData(schema: TSchema): void {
  const issue: TSchema = {
    type: "object",
    description: "One offending input field; `path` names it (e.g. [\"events\", 7, \"props\"]).",
    properties: { path: { type: "array", items: { type: ["string", "integer"] } }, code: { type: "string" }, message: { type: "string" } },
    required: ["message"],
  };
  if (schema.properties!.issues) schema.properties!.issues = { ...schema.properties!.issues, items: issue };
  schema.properties!.data = {
    type: "object",
    description: "Machine-readable details: `reason` (e.g. SITE_NOT_IN_WORKSPACE), `issues` naming each offending field by `path`, and the `requestId`.",
    properties: {
      code: { type: "string" },
      httpStatus: { type: "integer" },
      path: { type: ["string", "null"] },
      reason: { type: "string" },
      issues: { type: "array", items: { ...issue, required: ["path", "code", "message"] } },
      requestId: { type: ["string", "null"] },
    },
  };
}
