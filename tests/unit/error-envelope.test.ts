import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DomainError } from "../../server/errors/domain-error.ts";
import { errorEnvelope } from "../../server/errors/error-envelope.ts";

const scope = { path: "tracking.recordServerEvents", requestId: "req_1" };

describe("errorEnvelope", () => {
  it("a DomainError, raised directly or as a tRPC error's cause, gives its reason, issues and status", () => {
    const issue = { path: ["siteId"], code: "forbidden", message: "not a tracking site of this workspace" };
    const domain = new DomainError("SITE_NOT_IN_WORKSPACE", "siteId is not a tracking site of this workspace", [issue]);
    const expected = {
      message: domain.message,
      data: {
        code: "FORBIDDEN",
        httpStatus: 403,
        path: scope.path,
        reason: "SITE_NOT_IN_WORKSPACE",
        issues: [issue],
        requestId: "req_1",
      },
    };
    expect(errorEnvelope(domain, scope)).toEqual(expected);
    expect(errorEnvelope(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: domain }), scope)).toEqual(expected);
  });

  it.each([
    ["RATE_LIMITED", 429],
    ["SERVICE_UNAVAILABLE", 503],
    ["PAYLOAD_TOO_LARGE", 413],
    ["UNSUPPORTED_MEDIA_TYPE", 415],
    ["MALFORMED_JSON", 400],
    ["METHOD_NOT_ALLOWED", 405],
  ] as const)("%s answers %i (tRPC's own status table)", (reason, status) => {
    expect(errorEnvelope(new DomainError(reason, "x"), {}).data).toMatchObject({
      reason,
      httpStatus: status,
      path: null,
      requestId: null,
    });
  });

  it("zod failures and unparsable bodies: 400 with the reason and message REST gives", () => {
    const zod = z.object({ siteId: z.string() }).safeParse({}).error!;
    const invalid = errorEnvelope(new TRPCError({ code: "BAD_REQUEST", cause: zod }), scope);
    expect(invalid).toMatchObject({
      message: "Input validation failed",
      data: { httpStatus: 400, reason: "VALIDATION_FAILED" },
    });
    expect(invalid.data.issues).toEqual([expect.objectContaining({ path: ["siteId"], code: "invalid_type" })]);
    const malformed = errorEnvelope(
      new TRPCError({ code: "BAD_REQUEST", cause: new SyntaxError("Unexpected token") }),
      scope,
    );
    expect(malformed).toMatchObject({
      message: "Request body is not valid JSON",
      data: { reason: "MALFORMED_JSON", issues: [] },
    });
  });

  it("anything unexpected is a 500 whose message says nothing about the cause", () => {
    const leaky = new Error(
      "Invalid `prisma.user.findUnique()` invocation in /srv/app/server/auth/users.repo.ts:11:22",
    );
    for (const error of [
      leaky,
      new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: leaky.message, cause: leaky }),
      "a string",
    ]) {
      expect(errorEnvelope(error, scope)).toEqual({
        message: "Internal server error",
        data: {
          code: "INTERNAL_SERVER_ERROR",
          httpStatus: 500,
          path: scope.path,
          reason: "INTERNAL",
          issues: [],
          requestId: "req_1",
        },
      });
    }
  });
});
