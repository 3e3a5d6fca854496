import { z } from "zod";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "../../db/storable.ts";
import { lookupProfile } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { READ_ERRORS, ZProfile } from "../reads.types.ts";

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

export const lookup = workspaceReadProcedure
  .meta({
    openapi: {
      method: "GET",
      path: "/profiles/lookup",
      tags: ["profiles"],
      summary: "Find a profile by visitorId or email",
      description:
        "The live profile owning the identifier in the workspace, with identifiers and funnel stages; `profile: null` when none.",
      protect: true,
      errorResponses: READ_ERRORS,
    },
  })
  .input(ZLookupInput)
  .output(z.object({ profile: ZProfile.nullable() }))
  .query(async ({ ctx, input }) => ({ profile: await lookupProfile(ctx.db.prisma, ctx.workspace.id, input) }));
