import { collectRefusalCounts } from "../../tracking/collect-refusals.repo.ts";
import { requireSiteInWorkspace } from "../../workspaces/require-site.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import {
  collectStatsMeta,
  ZCollectStatsInput,
  ZCollectStatsOutput,
  type TCollectStatsOutput,
} from "./collect-stats.types.ts";

export const collectStats = workspaceReadProcedure
  .meta(collectStatsMeta)
  .input(ZCollectStatsInput)
  .output(ZCollectStatsOutput)
  .query(async ({ ctx, input }): Promise<TCollectStatsOutput> => {
    const site = await requireSiteInWorkspace(ctx.db.prisma, ctx.workspace.id, input.siteId);
    return { siteId: site.id, reasons: await collectRefusalCounts(ctx.db, site.id) };
  });
