import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { ZStripeWebhookSecret } from "../../stripe/webhook-secret.ts";
import { ZWorkspaceScope } from "../middlewares.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";
import { EXAMPLE_IDS } from "../shared/examples.types.ts";
import { SITE_ADMIN_ERRORS } from "../shared/site-admin.types.ts";

export const setStripeSecretMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/sites/stripe-secret",
    tags: ["sites"],
    summary: "Connect Stripe: set a site's webhook signing secret",
    description:
      "Stores the signing secret of the Stripe webhook endpoint `POST /api/webhooks/stripe/{siteId}`, encrypted " +
      "(AES-256-GCM with SECRETS_KEY; Stripe's HMAC scheme needs the secret itself, so it cannot be hashed). " +
      "Replaces any earlier secret. It is never returned. ADMIN only.",
    protect: true,
    successDescription: "The secret is set.",
    errorResponses: SITE_ADMIN_ERRORS,
  },
  examples: {
    // Stripe shows the endpoint's real secret on its dashboard; this one has the right shape.
    request: { siteId: EXAMPLE_IDS.siteId, secret: "whsec_replace_with_your_endpoint_secret" } satisfies TRestBody<
      z.input<typeof ZSetStripeSecretInput>
    >,
  },
};

export const ZSetStripeSecretInput = z.strictObject({
  ...ZWorkspaceScope.shape,
  siteId: ZStorableId(40).describe("A tracking site of the workspace.").meta({ example: "site_456" }),
  secret: ZStripeWebhookSecret,
});

export const ZSetStripeSecretOutput = z.object({
  siteId: z.string(),
  webhookPath: z.string().describe("The path to give Stripe as the endpoint, after your public origin."),
});
