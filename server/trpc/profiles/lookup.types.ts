import { z } from "zod";
import { ZLookupInput } from "../../tracking/profile-lookup.schema.ts";
import { ZProfile } from "../shared/profile.types.ts";
import { READ_ERRORS } from "../shared/read.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const lookupMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/profiles/lookup",
    tags: ["profiles"],
    summary: "Find a profile by visitorId or email",
    description:
      "The live profile owning the identifier in the workspace, with identifiers and funnel stages; " +
      "`profile: null` when none.",
    protect: true,
    errorResponses: READ_ERRORS,
  },
  examples: {
    errors: {
      400: {
        reason: "VALIDATION_FAILED",
        message: "Input validation failed",
        issues: [{ path: ["visitorId"], code: "custom", message: "give exactly one of visitorId or email" }],
      },
    },
  },
};

/** The input is the door-shared lookup schema (the MCP tool takes the same). */
export { ZLookupInput };

export const ZLookupOutput = z.object({ profile: ZProfile.nullable() });

export type TLookupInput = z.infer<typeof ZLookupInput>;
export type TLookupOutput = z.infer<typeof ZLookupOutput>;
