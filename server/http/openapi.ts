import type { RequestHandler } from "express";
import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import type { TErrorExample, TProcedureExamples, TProcedureMeta } from "../trpc/meta.types.ts";
import type { AppRouter } from "../trpc/router.ts";
import { EXAMPLE_REQUEST_ID, PARAMETER_NOTES, errorExample } from "./openapi-examples.ts";
import { SERVER_EVENTS_RATE_LIMIT_SLOT } from "../trpc/tracking/record-server-events.types.ts";

type TSchema = {
  type?: string | string[];
  properties?: Record<string, TSchema>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
};
type TMedia = { schema?: TSchema; example?: unknown };
type TResponse = { description?: string; content?: Record<string, TMedia> };
type TParameter = {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  example?: unknown;
  schema?: TSchema;
};
type TOperation = {
  operationId?: string;
  description?: string;
  requestBody?: { content?: Record<string, TMedia> };
  parameters?: TParameter[];
  responses?: Record<string, TResponse>;
};

const API_DESCRIPTION = [
  "Records events that happen on your server onto the same event log and profile timelines as browser tracking, " +
    "and reads profiles and events back. The same procedures are served over tRPC at /api/trpc.",
  "**How to authenticate on this page:** open `POST /auth/login`, choose *Try it out*, enter your email and " +
    "password and *Execute*. The answer sets an HttpOnly session cookie that this browser then sends with every " +
    "other *Try it out* request on this page: there is nothing to enter under *Authorize* (a browser does not " +
    "let a page set a cookie header, so a value typed there is not sent). Log out with `POST /auth/logout`.",
  "Outside a browser, keep the cookie the login answer sets and send it back, e.g. " +
    "`curl -c cookies.txt …/auth/login` then `curl -b cookies.txt …`.",
  "The examples work as they are once the ids (`ws_123`, `site_456`, `prf_789`) are replaced by yours: the " +
    "start-up banner prints those of the demo workspace.",
].join("\n\n");

function sessionCookieDescription(cookieName: string): string {
  return (
    `The HttpOnly session cookie \`${cookieName}\` that POST /auth/login sets. In this page, do not type ` +
    "anything here: run POST /auth/login with *Try it out* and the browser sends the cookie by itself (a value " +
    "entered here is not sent, since browsers do not let pages set cookies on requests). Other clients send " +
    `back the \`${cookieName}\` cookie the login answer set.`
  );
}

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

/**
 * The OpenAPI adapter adds zod's raw issues as a top-level `issues` to a REST validation error,
 * next to the formatted `data.issues`: one shape is kept, `{ message, code, data }` as on tRPC.
 * An error the adapter raises before any procedure runs (no such route) was formatted without a
 * context, so without the request id: it gets the one the request already has.
 * Mounted just before the adapter, which writes its whole body with one `res.end(json)`.
 */
export const oneErrorShape: RequestHandler = (_req, res, next) => {
  const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (res.statusCode < 400 || typeof chunk !== "string") return end(chunk, ...rest);
    const requestId: unknown = res.locals.requestId;
    const body = withoutAdapterIssues(chunk, typeof requestId === "string" ? requestId : null);
    return end(body, ...rest);
  }) as typeof res.end;
  next();
};

function withoutAdapterIssues(json: string, requestId: string | null): string {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return json;
  }
  if (!body || typeof body !== "object" || !("data" in body)) return json;
  const { message, data } = body as { message: unknown; data: { code?: unknown; requestId?: unknown } };
  return JSON.stringify({ message, code: data.code, data: { ...data, requestId: data.requestId ?? requestId } });
}

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
    description: API_DESCRIPTION,
    baseUrl: opts.baseUrl,
    securitySchemes: {
      sessionCookie: {
        type: "apiKey",
        in: "cookie",
        name: opts.cookieName,
        description: sessionCookieDescription(opts.cookieName),
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
  addExamples(doc, router);
  tidySchemas(doc);
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
  for (const { meta, op } of proceduresOf(doc, router)) {
    const own = meta.openapi?.errorResponses;
    if (!own || Array.isArray(own)) continue;
    for (const [status, description] of Object.entries(own)) {
      const res = op.responses?.[status];
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
 * schemas in `components` behind a `$ref`: those are fixed where they live. Its top-level `issues`
 * goes: REST bodies are `{ message, code, data }` like tRPC's, with the issues in `data` only.
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
    required: ["path", "code", "message"],
  };
  delete schema.properties!.issues;
  schema.required = ["message", "code", "data"];
  schema.properties!.data = {
    type: "object",
    description:
      "Machine-readable details: `reason` (e.g. SITE_NOT_IN_WORKSPACE), `issues` naming each offending field by " +
      "`path` (empty when no field is at fault), and the `requestId` to quote when reporting a problem.",
    properties: {
      code: { type: "string", description: "The tRPC error code, also the top-level `code`." },
      httpStatus: { type: "integer", minimum: 400, maximum: 599 },
      path: { type: ["string", "null"], description: "The procedure, e.g. `tracking.recordServerEvents`." },
      reason: { type: "string", description: "Why, more precisely than the status, e.g. `SITE_NOT_IN_WORKSPACE`." },
      issues: { type: "array", items: issue },
      requestId: { type: ["string", "null"], description: "Also sent as X-Request-Id." },
    },
    required: ["code", "httpStatus", "path", "reason", "issues", "requestId"],
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

/**
 * Each procedure of the router that the document has an operation for: its dotted path (as in
 * `data.path` of its errors), its meta and that operation.
 */
function proceduresOf(doc: OpenAPIObject, router: AppRouter): { path: string; meta: TProcedureMeta; op: TOperation }[] {
  const procedures = router._def.procedures as unknown as Record<string, { _def: { meta?: TProcedureMeta } }>;
  return Object.entries(procedures).flatMap(([path, procedure]) => {
    const meta = procedure._def.meta ?? {};
    const at = meta.openapi;
    const op = at && (doc.paths?.[at.path] as Record<string, TOperation> | undefined)?.[at.method.toLowerCase()];
    return op ? [{ path, meta, op }] : [];
  });
}

/** Every operation of the document. */
function operationsOf(doc: OpenAPIObject): TOperation[] {
  return Object.values(doc.paths ?? {}).flatMap((item) =>
    Object.values(item as Record<string, TOperation | undefined>).filter((op): op is TOperation => !!op),
  );
}

/**
 * Examples that work: the generator would derive them from the schemas ("string" as a userId, a
 * date-time made up from a regex), which "Try it out" then sends and the server refuses. Each
 * procedure's own come from its meta (`examples`); the rest are shared by every operation.
 * Objects are copied before they change: the generator shares response objects between operations.
 */
function addExamples(doc: OpenAPIObject, router: AppRouter): void {
  for (const { path, meta, op } of proceduresOf(doc, router)) {
    const own: TProcedureExamples = meta.examples ?? {};
    const media = op.requestBody?.content?.["application/json"];
    if (media && own.request !== undefined) {
      op.requestBody = { ...op.requestBody, content: { "application/json": { ...media, example: own.request } } };
    }
    op.parameters = op.parameters?.map((p) => describeParameter(p));
    for (const [status, res] of Object.entries(op.responses ?? {})) {
      const example = errorExample(own, status);
      const errorMedia = res.content?.["application/json"];
      if (!example || !errorMedia || !/^[45]/.test(status)) continue;
      op.responses![status] = {
        ...res,
        content: { "application/json": { ...errorMedia, example: errorBody(path, Number(status), example) } },
      };
    }
  }
  noteLookupMisses(doc);
}

function describeParameter(param: TParameter): TParameter {
  const notes = PARAMETER_NOTES[param.name];
  if (!notes) return param;
  const schema = { ...param.schema, description: undefined };
  const example = notes.example === undefined ? {} : { example: notes.example };
  return { ...param, description: param.description ?? notes.description, ...example, schema };
}

/** Raised before any procedure runs (body reader, CSRF guard, session store): `data.path` is null there. */
const OUTSIDE_PROCEDURES = new Set([
  "CROSS_SITE_REQUEST",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "MALFORMED_JSON",
  "SERVICE_UNAVAILABLE",
]);

function errorBody(procedurePath: string, httpStatus: number, example: TErrorExample) {
  const code = TRPC_CODE_BY_STATUS[httpStatus] ?? "INTERNAL_SERVER_ERROR";
  const path = OUTSIDE_PROCEDURES.has(example.reason) ? null : procedurePath;
  return {
    message: example.message,
    code,
    data: { code, httpStatus, path, reason: example.reason, issues: example.issues, requestId: EXAMPLE_REQUEST_ID },
  };
}

const TRPC_CODE_BY_STATUS: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
  503: "SERVICE_UNAVAILABLE",
};

/** A lookup that finds nothing is an answer, not an error: 200 with `profile: null`, never a 404. */
function noteLookupMisses(doc: OpenAPIObject): void {
  const op = operationsOf(doc).find((o) => o.operationId === "profiles-lookup");
  if (!op?.responses) return;
  delete op.responses["404"];
  op.description = `${op.description ?? ""} An identifier no profile owns is not an error: 200, never a 404.`;
}

/**
 * zod writes every date-time as a `pattern` next to `format: date-time`; example generators
 * then make up dates from the regex (year 6534). And a bare `z.number().int()` is bounded by
 * ±2^53: every integer this API answers is a count or an index, so none is negative.
 */
function tidySchemas(doc: OpenAPIObject): void {
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    const schema = node as TSchema;
    if (schema.format === "date-time" && typeof schema.pattern === "string") delete schema.pattern;
    if (schema.type === "integer" && schema.minimum === Number.MIN_SAFE_INTEGER) {
      schema.minimum = 0;
      if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(doc.paths);
  visit(doc.components);
}
