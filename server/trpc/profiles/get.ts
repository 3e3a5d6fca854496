import { getProfile } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { getMeta, ZGetInput, ZGetOutput } from "./get.types.ts";

export const get = workspaceReadProcedure
  .meta(getMeta)
  .input(ZGetInput)
  .output(ZGetOutput)
  .query(({ ctx, input }) => getProfile(ctx.db.prisma, ctx.workspace.id, input.profileId, input));
