import { z } from "zod";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "../db/storable.ts";

/** How a profile is looked up, by every door that reads one (REST/tRPC and the MCP tool): one identifier. */
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
