import { z } from "zod";
import type { OpenApiMeta } from "trpc-to-openapi";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "../../db/storable.ts";
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

export const ZLookupInput = z
  .object({
    visitorId: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
      .optional()
      .describe("A visitor id (`_fn_vid`)."),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254)
      .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
      .optional()
      .describe("An email (case-insensitive)."),
  })
  .refine((v) => (v.visitorId === undefined) !== (v.email === undefined), {
    message: "give exactly one of visitorId or email",
    path: ["visitorId"],
  });

export const ZLookupOutput = z.object({ profile: ZProfile.nullable() });

export type TLookupInput = z.infer<typeof ZLookupInput>;
export type TLookupOutput = z.infer<typeof ZLookupOutput>;
