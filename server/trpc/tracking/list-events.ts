import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { listSiteEvents } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { READ_ERRORS, ZPageQuery, ZTrackingEventView } from "../reads.types.ts";

export const listEvents = workspaceReadProcedure
  .meta({
    openapi: {
      method: "GET",
      path: "/tracking/events",
      tags: ["tracking"],
      summary: "Recent events of a site",
      description:
        "Events of a tracking site, newest first, cursor-paginated, each with its channel and the rule that decided it.",
      protect: true,
      errorResponses: READ_ERRORS,
    },
  })
  .input(ZPageQuery.extend({ siteId: ZStorableId(40).describe("A tracking site of the workspace.") }))
  .output(z.object({ items: z.array(ZTrackingEventView), nextCursor: z.string().nullable() }))
  .query(({ ctx, input }) => listSiteEvents(ctx.db.prisma, ctx.workspace.id, input.siteId, input));
