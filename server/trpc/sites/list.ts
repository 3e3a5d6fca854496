import { identityVerificationOf } from "../../tracking/identity-verification.repo.ts";
import { listSites } from "../../workspaces/workspaces.repo.ts";
import { workspaceReadProcedure } from "../middlewares.ts";
import { listSitesMeta, ZListSitesOutput, type TListSitesOutput } from "./list.types.ts";

export const list = workspaceReadProcedure
  .meta(listSitesMeta)
  .output(ZListSitesOutput)
  .query(async ({ ctx }): Promise<TListSitesOutput> => {
    const sites = await listSites(ctx.db.prisma, ctx.workspace.id);
    const verification = await identityVerificationOf(
      ctx.db,
      sites.map((s) => s.id),
    );
    return {
      items: sites.map(({ id, name, domain, funnelId }) => ({
        id,
        name,
        domain,
        funnelId,
        identityVerification: verification.get(id) ?? { required: false, secretSet: false },
      })),
    };
  });
