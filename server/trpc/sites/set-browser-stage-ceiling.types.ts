import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { BROWSER_STAGE_CEILINGS, DEFAULT_BROWSER_STAGE_CEILING } from "../../tracking/ingest/trust.ts";
import { ZWorkspaceScope } from "../middlewares.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";
import { EXAMPLE_IDS } from "../shared/examples.types.ts";
import { SITE_ADMIN_ERRORS } from "../shared/site-admin.types.ts";

export const setBrowserStageCeilingMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/sites/browser-stage-ceiling",
    tags: ["sites"],
    summary: "Set how far the tracking snippet's events may advance a stage",
    description:
      "The browser door (`POST /api/collect`) authenticates nobody: anyone can send the site's Origin. Its events " +
      "are recorded as sent, but move a profile's stage at most to this ceiling (default " +
      `${DEFAULT_BROWSER_STAGE_CEILING}; one of ${BROWSER_STAGE_CEILINGS.join(", ")}, never CUSTOMER). Stages past ` +
      "it come only from server events, API keys and Stripe. ADMIN only.",
    protect: true,
    successDescription: "The ceiling is set.",
    errorResponses: SITE_ADMIN_ERRORS,
  },
  examples: {
    request: { siteId: EXAMPLE_IDS.siteId, ceiling: "CONSIDERATION" } satisfies TRestBody<
      z.input<typeof ZSetBrowserStageCeilingInput>
    >,
  },
};

export const ZBrowserStageCeiling = z
  .enum(BROWSER_STAGE_CEILINGS)
  .describe(`The latest stage the snippet's events may reach: ${BROWSER_STAGE_CEILINGS.join(", ")} (never CUSTOMER).`);

export const ZSetBrowserStageCeilingInput = z.strictObject({
  ...ZWorkspaceScope.shape,
  siteId: ZStorableId(40).describe("A tracking site of the workspace.").meta({ example: "site_456" }),
  ceiling: ZBrowserStageCeiling,
});

export const ZSetBrowserStageCeilingOutput = z.object({
  siteId: z.string(),
  browserStageCeiling: z.enum(BROWSER_STAGE_CEILINGS),
});
