import { siteNotInWorkspace } from "../../workspaces/require-site.ts";
import { setBrowserStageCeiling as storeCeiling } from "../../workspaces/workspaces.repo.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import {
  setBrowserStageCeilingMeta,
  ZSetBrowserStageCeilingInput,
  ZSetBrowserStageCeilingOutput,
} from "./set-browser-stage-ceiling.types.ts";

export const setBrowserStageCeiling = workspaceAdminProcedure
  .meta(setBrowserStageCeilingMeta)
  .input(ZSetBrowserStageCeilingInput)
  .output(ZSetBrowserStageCeilingOutput)
  .mutation(async ({ ctx, input }) => {
    const { siteId, ceiling } = input;
    if (!(await storeCeiling(ctx.db.prisma, { siteId, workspaceId: ctx.workspace.id, ceiling })))
      throw siteNotInWorkspace();
    return { siteId, browserStageCeiling: ceiling };
  });
