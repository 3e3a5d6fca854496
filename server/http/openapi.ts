import type { RequestHandler } from "express";
import { generateOpenApiDocument, type OpenAPIObject, type OpenApiMeta } from "trpc-to-openapi";
import type { AppRouter } from "../trpc/router.ts";
import { SERVER_EVENTS_RATE_LIMIT_SLOT } from "../trpc/tracking/record-server-events.types.ts";

type TSchema = {
  type?: string | string[];
  properties?: Record<string, TSchema>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
};
type TResponse = { description?: string; content?: Record<string, { schema?: TSchema }> };
type TOperation = {
  requestBody?: { content?: Record<string, { schema?: TSchema }> };
  parameters?: unknown[];
  responses?: Record<string, TResponse>;
};

/** Body keys that REST callers pass in the query string (trpc-to-openapi would put them in the body). */
export const QUERY_SCOPED_KEYS = ["workspaceId"] as const;

/**
 * trpc-to-openapi never reads a POST's query string (docs/trpc-openapi.md #1): copy the scoped
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

export type TOpenApiOptions = {
  baseUrl: string;
  cookieName: string;
  /** The configured limit of the server-events procedure, stated in its description. */
  serverEventsLimit: { points: number; durationSeconds: number };
};

/** The OpenAPI 3 document, generated from the router and corrected where the generator falls short. */
export function buildOpenApiDocument(router: AppRouter, opts: TOpenApiOptions): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: "Server-side events API",
    version: "1.0.0",
    description:
      "Records events that happen on your server onto the same event log and profile timelines as browser tracking. " +
      "Authenticate with the session cookie from POST /auth/login " +
      "(the same procedures are served over tRPC at /api/trpc).",
    baseUrl: opts.baseUrl,
    securitySchemes: {
      sessionCookie: {
        type: "apiKey",
        in: "cookie",
        name: opts.cookieName,
        description: "Session cookie set by POST /auth/login.",
      },
    },
  });
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of ["post", "put", "patch"] as const) {
      const op = (item as Record<string, TOperation | undefined>)[method];
      if (op) moveScopeToQuery(op);
    }
    for (const op of Object.values(item as Record<string, TOperation>)) if (op?.responses) allowErrorData(op, doc);
  }
  restoreErrorWording(doc, router);
  fillConfiguredValues(doc, { [SERVER_EVENTS_RATE_LIMIT_SLOT]: describeLimit(opts.serverEventsLimit) });
  return doc;
}

/**
 * trpc-to-openapi builds ONE response object per error code for the whole process, worded by the
 * first procedure naming that code: every 401 read "Wrong email or password" and every 429 "Too
 * many failed logins" (the login's). Each operation gets its own procedure's descriptions back, and
 * the shared error schemas lose the title and example messages that were the first procedure's.
 */
function restoreErrorWording(doc: OpenAPIObject, router: AppRouter): void {
  for (const procedure of Object.values(router._def.procedures) as unknown as { _def: { meta?: OpenApiMeta } }[]) {
    const openapi = procedure._def.meta?.openapi;
    const own = openapi?.errorResponses;
    if (!openapi || !own || Array.isArray(own)) continue;
    const op = (doc.paths?.[openapi.path] as Record<string, TOperation> | undefined)?.[openapi.method.toLowerCase()];
    for (const [status, description] of Object.entries(own)) {
      const res = op?.responses?.[status];
      if (res) op.responses![status] = { ...res, description };
    }
  }
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {}) as [string, TSchema][]) {
    const code = /^error\.([A-Z_]+)$/.exec(name)?.[1];
    if (!code) continue;
    schema.title = `${code} error`;
    delete schema.example;
    if (schema.properties?.message) delete schema.properties.message.example;
  }
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
      {
        name: key,
        in: "query",
        required: true,
        description: prop.description,
        schema: { ...prop, description: undefined },
      },
    ];
  }
}

/**
 * The generated error schemas forbid extra keys, but error bodies carry `data`, and their
 * `issues` are zod's, with `path`, `code` and more (docs/trpc-openapi.md #9). The generator puts most error
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
    description: 'One offending input field; `path` names it (e.g. ["events", 7, "props"]).',
    properties: {
      path: { type: "array", items: { type: ["string", "integer"] } },
      code: { type: "string" },
      message: { type: "string" },
    },
    required: ["message"],
  };
  if (schema.properties!.issues) schema.properties!.issues = { ...schema.properties!.issues, items: issue };
  schema.properties!.data = {
    type: "object",
    description:
      "Machine-readable details: `reason` (e.g. SITE_NOT_IN_WORKSPACE), `issues` naming each offending field by " +
      "`path`, and the `requestId`.",
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

/** "600 per hour", "100 per 5 minutes", "10 per 90 seconds". */
export function describeLimit({ points, durationSeconds }: { points: number; durationSeconds: number }): string {
  const units = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
    ["second", 1],
  ] as const;
  const [unit, size] = units.find(([, size]) => durationSeconds % size === 0) ?? units[3];
  const count = durationSeconds / size;
  return `${points} per ${count === 1 ? unit : `${count} ${unit}s`}`;
}

/** Descriptions state values the configuration decides; the router's meta holds a slot for each. */
function fillConfiguredValues(doc: OpenAPIObject, values: Record<string, string>): void {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { description?: string } | undefined>)) {
      if (typeof op?.description !== "string") continue;
      for (const [slot, value] of Object.entries(values)) op.description = op.description.replaceAll(slot, value);
    }
  }
}
