import { describe, expect, it } from "vitest";
import type { z } from "zod";
import * as sharedExamples from "../../server/http/openapi-examples.ts";
import { buildOpenApiDocument } from "../../server/http/openapi.ts";
import type { TProcedureMeta } from "../../server/trpc/meta.types.ts";
import { appRouter } from "../../server/trpc/router.ts";

type TOp = {
  operationId: string;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content?: Record<string, { example?: { message: string; data: { reason: string } } }> }>;
};

const doc = buildOpenApiDocument(appRouter, {
  baseUrl: "/api",
  cookieName: "fse.sid",
  serverEventsLimit: { points: 600, durationSeconds: 3600 },
});
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { meta?: TProcedureMeta } }>,
).map(([path, p]) => ({ path, meta: p._def.meta ?? {} }));

/** Each operation of the document with the procedure it comes from, found by its meta's path and method. */
const operations = Object.entries(doc.paths ?? {}).flatMap(([at, item]) =>
  Object.entries(item as Record<string, TOp>).map(([method, op]) => {
    const procedure = procedures.find(
      ({ meta }) => meta.openapi?.path === at && meta.openapi.method.toLowerCase() === method,
    );
    return { op, procedure: procedure! };
  }),
);

describe("each procedure declares its own examples, in its meta", () => {
  it("every operation comes from a procedure of the router", () => {
    expect(operations.length).toBeGreaterThan(0);
    expect(operations.filter((o) => !o.procedure).map((o) => o.op.operationId)).toEqual([]);
  });

  it("every operation with a body has the request example of its procedure's meta", () => {
    const withBody = operations.filter(({ op }) => op.requestBody);
    expect(withBody.map(({ op }) => op.operationId).sort()).toEqual(
      ["apiKeys-create", "apiKeys-revoke", "auth-login", "auth-logout", "sites-setStripeSecret"]
        .concat("sites-setBrowserStageCeiling", "sites-setIdentityVerification", "tracking-recordServerEvents")
        .sort(),
    );
    for (const { op, procedure } of withBody) {
      const declared = procedure.meta.examples?.request;
      expect(declared, `${procedure.path}: meta.examples.request`).toBeDefined();
      expect(op.requestBody!.content["application/json"]!.example, procedure.path).toEqual(declared);
    }
  });

  it("a declared example is one the document shows: a request only with a body, errors only at listed statuses", () => {
    for (const { op, procedure } of operations) {
      const { request, errors = {} } = procedure.meta.examples ?? {};
      if (request !== undefined) expect(op.requestBody, `${procedure.path} has a body`).toBeDefined();
      for (const [status, example] of Object.entries(errors)) {
        const shown = op.responses[status]?.content?.["application/json"]?.example;
        expect(shown, `${procedure.path} ${status}`).toMatchObject({
          message: example.message,
          data: { reason: example.reason, issues: example.issues },
        });
      }
    }
  });

  it("no input schema carries a whole-request example of its own: the meta's is the one", () => {
    const inputs = appRouter._def.procedures as unknown as Record<string, { _def: { inputs: z.ZodType[] } }>;
    const withExample = Object.entries(inputs).filter(([, p]) => p._def.inputs.some((i) => i.meta()?.example));
    expect(withExample.map(([path]) => path)).toEqual([]);
  });

  it("the shared examples module keys nothing by operation: no table of operationIds or procedure paths", () => {
    const names = new Set(operations.flatMap(({ op, procedure }) => [op.operationId, procedure.path]));
    const keyedByOperation = Object.entries(sharedExamples).filter(
      ([, value]) => value && typeof value === "object" && Object.keys(value).some((k) => names.has(k)),
    );
    expect(keyedByOperation.map(([name]) => name)).toEqual([]);
  });
});
