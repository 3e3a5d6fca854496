import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { getProfile } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { READ_ERRORS, ZPageQuery, ZProfile, ZTimelineItem } from "../reads.types.ts";

export const get = workspaceReadProcedure
  .meta({
    openapi: {
      method: "GET",
      path: "/profiles/{profileId}",
      tags: ["profiles"],
      summary: "A profile with its timeline",
      description:
        "The profile, its identifiers and funnel links, and a page of its timeline (newest first). An id merged into another profile answers with the survivor and `redirectedFrom`.",
      protect: true,
      errorResponses: READ_ERRORS,
    },
  })
  .input(ZPageQuery.extend({ profileId: ZStorableId(40).describe("A profile id.") }))
  .output(
    z.object({
      profile: ZProfile,
      redirectedFrom: z.string().nullable().describe("The requested id, when it was merged into `profile.id`."),
      timeline: z.object({ items: z.array(ZTimelineItem), nextCursor: z.string().nullable() }),
    }),
  )
  .query(({ ctx, input }) => getProfile(ctx.db.prisma, ctx.workspace.id, input.profileId, input));
