import { setStripeWebhookSecret } from "../../stripe/webhook-secret.ts";
import { requireSiteInWorkspace } from "../../workspaces/require-site.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import { setStripeSecretMeta, ZSetStripeSecretInput, ZSetStripeSecretOutput } from "./set-stripe-secret.types.ts";

export const setStripeSecret = workspaceAdminProcedure
  .meta(setStripeSecretMeta)
  .input(ZSetStripeSecretInput)
  .output(ZSetStripeSecretOutput)
  .mutation(async ({ ctx, input }) => {
    const site = await requireSiteInWorkspace(ctx.db.prisma, ctx.workspace.id, input.siteId);
    await setStripeWebhookSecret(ctx.db.prisma, ctx.config.secrets.key, { siteId: site.id, secret: input.secret });
    return { siteId: site.id, webhookPath: `/api/webhooks/stripe/${site.id}` };
  });
