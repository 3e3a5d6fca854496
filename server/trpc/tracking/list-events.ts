import { listSiteEvents } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { listEventsMeta, ZListEventsInput, ZListEventsOutput } from "./list-events.types.ts";

export const listEvents = workspaceReadProcedure
  .meta(listEventsMeta)
  .input(ZListEventsInput)
  .output(ZListEventsOutput)
  .query(({ ctx, input }) => listSiteEvents(ctx.db.prisma, ctx.workspace.id, input.siteId, input));
