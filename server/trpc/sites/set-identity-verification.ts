import { setIdentityVerification as storeIdentityVerification } from "../../tracking/identity-verification.repo.ts";
import { requireSiteInWorkspace, siteNotInWorkspace } from "../../workspaces/require-site.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import {
  setIdentityVerificationMeta,
  ZSetIdentityVerificationInput,
  ZSetIdentityVerificationOutput,
  type TSetIdentityVerificationOutput,
} from "./set-identity-verification.types.ts";

export const setIdentityVerification = workspaceAdminProcedure
  .meta(setIdentityVerificationMeta)
  .input(ZSetIdentityVerificationInput)
  .output(ZSetIdentityVerificationOutput)
  .mutation(async ({ ctx, input }): Promise<TSetIdentityVerificationOutput> => {
    const site = await requireSiteInWorkspace(ctx.db.prisma, ctx.workspace.id, input.siteId);
    const change = await storeIdentityVerification(ctx.db, ctx.config.secrets.key, {
      siteId: site.id,
      required: input.required,
      rotate: input.rotateSecret ?? false,
    });
    // The site was just found in the workspace; only a concurrent delete removes it.
    if (!change) throw siteNotInWorkspace();
    return change;
  });
