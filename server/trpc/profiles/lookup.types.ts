import { z } from "zod";
import type { OpenApiMeta } from "trpc-to-openapi";
import { ZLookupInput } from "../../tracking/profile-lookup.schema.ts";
import { ZProfile } from "../shared/profile.types.ts";
import { READ_ERRORS } from "../shared/read.types.ts";

export const lookupMeta: OpenApiMeta = {
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
};

/** The input is the door-shared lookup schema (the MCP tool takes the same). */
export { ZLookupInput };

export const ZLookupOutput = z.object({ profile: ZProfile.nullable() });

export type TLookupInput = z.infer<typeof ZLookupInput>;
export type TLookupOutput = z.infer<typeof ZLookupOutput>;
