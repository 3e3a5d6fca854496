import { lookupProfile } from "../../tracking/read-profiles.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { lookupMeta, ZLookupInput, ZLookupOutput, type TLookupOutput } from "./lookup.types.ts";

export const lookup = workspaceReadProcedure
  .meta(lookupMeta)
  .input(ZLookupInput)
  .output(ZLookupOutput)
  .query(async ({ ctx, input }): Promise<TLookupOutput> => ({
    profile: await lookupProfile(ctx.db.prisma, ctx.workspace.id, input),
  }));
