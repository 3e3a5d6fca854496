import { listSites } from "../../workspaces/workspaces.repo.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { listSitesMeta, ZListSitesOutput, type TListSitesOutput } from "./list.types.ts";

export const list = workspaceReadProcedure
  .meta(listSitesMeta)
  .output(ZListSitesOutput)
  .query(async ({ ctx }): Promise<TListSitesOutput> => ({
    items: (await listSites(ctx.db.prisma, ctx.workspace.id)).map(({ id, name, domain, funnelId }) => ({
      id,
      name,
      domain,
      funnelId,
    })),
  }));
