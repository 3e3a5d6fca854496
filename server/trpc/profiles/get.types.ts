import { z } from "zod";
import { EVENT_SOURCES } from "../../db/enums.ts";
import { ZStorableId } from "../../db/storable.ts";
import { ZProfile } from "../shared/profile.types.ts";
import { INVALID_LIMIT_EXAMPLE, READ_ERRORS, ZIsoDateTime, ZPageOf, ZPageQuery } from "../shared/read.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const getMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/profiles/{profileId}",
    tags: ["profiles"],
    summary: "A profile with its timeline",
    description:
      "The profile, its identifiers and funnel links, and a page of its timeline (newest first). " +
      "An id merged into another profile answers with the survivor and `redirectedFrom`.",
    protect: true,
    errorResponses: READ_ERRORS,
  },
  examples: { errors: { 400: INVALID_LIMIT_EXAMPLE } },
};

export const ZTimelineItem = z.object({
  id: z.string(),
  type: z.string().describe("The event type, or `$merge` for a merge entry."),
  occurredAt: ZIsoDateTime,
  funnelId: z.string(),
  trackingEventId: z.string().nullable(),
  source: z
    .enum(EVENT_SOURCES)
    .nullable()
    .describe("Who recorded the event: `SERVER` (this API) or `CLIENT` (the browser snippet); null for `$merge`."),
  detail: z.unknown().nullable().describe("For `$merge`: the merged profile id and the identifier that linked them."),
});

export const ZGetInput = ZPageQuery.extend({ profileId: ZStorableId(40).describe("A profile id.") });

export const ZGetOutput = z.object({
  profile: ZProfile,
  redirectedFrom: z.string().nullable().describe("The requested id, when it was merged into `profile.id`."),
  timeline: ZPageOf(ZTimelineItem),
});

export type TGetInput = z.infer<typeof ZGetInput>;
export type TGetOutput = z.infer<typeof ZGetOutput>;
