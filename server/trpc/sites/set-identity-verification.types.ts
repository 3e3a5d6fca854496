import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { ZWorkspaceScope } from "../middlewares.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";
import { EXAMPLE_IDS } from "../shared/examples.types.ts";
import { SITE_ADMIN_ERRORS } from "../shared/site-admin.types.ts";

export const setIdentityVerificationMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/sites/identity-verification",
    tags: ["sites"],
    summary: "Require (or not) identity verification of a site's browser emails",
    description:
      "With `required: true`, `POST /api/collect` records a browser event's email only with its `emailHmac`: the " +
      "hex HMAC-SHA256 of the trimmed, lower-cased email keyed with the site's secret, computed by your backend. " +
      "An email without a valid one is left out of the event (the rest is recorded) and counted in the answer's " +
      "`unverifiedEmails`. The secret (32 random bytes, 64 hex characters) is created when verification is first " +
      "turned on or when `rotateSecret` is true, and answered only then: it is stored encrypted (AES-256-GCM with " +
      "SECRETS_KEY) and never returned again. Rotating makes HMACs under the old secret fail at once. To roll out " +
      "without losing emails, rotate with `required: false` first, deploy the HMACs, then turn it on. ADMIN only.",
    protect: true,
    successDescription: "The setting is stored; `secret` is present only when one was created or rotated.",
    errorResponses: SITE_ADMIN_ERRORS,
  },
  examples: {
    // Rotating with `required: false` first gets the secret to your backend before browsers must send HMACs.
    request: { siteId: EXAMPLE_IDS.siteId, required: true } satisfies TRestBody<
      z.input<typeof ZSetIdentityVerificationInput>
    >,
  },
};

// A preprocess pipe, not a bare z.boolean(): trpc-to-openapi would coerce "false" to true (docs/trpc-openapi.md #2).
const ZStrictBoolean = z.preprocess((v) => v, z.boolean({ error: "must be true or false" }));

export const ZSetIdentityVerificationInput = z.strictObject({
  ...ZWorkspaceScope.shape,
  siteId: ZStorableId(40).describe("A tracking site of the workspace.").meta({ example: "site_456" }),
  required: ZStrictBoolean.describe("Whether browser emails need a valid `emailHmac` to be recorded."),
  rotateSecret: ZStrictBoolean.optional().describe(
    "Replace the secret with a new one (answered once); HMACs under the old one stop verifying.",
  ),
});

export const ZSetIdentityVerificationOutput = z.object({
  siteId: z.string(),
  required: z.boolean(),
  secret: z
    .string()
    .optional()
    .describe("The new secret, only in the answer that created or rotated it. Keep it on your backend only."),
});

export type TSetIdentityVerificationOutput = z.infer<typeof ZSetIdentityVerificationOutput>;
