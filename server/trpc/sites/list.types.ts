import { z } from "zod";
import { READ_ERRORS } from "../shared/read.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const listSitesMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/sites",
    tags: ["sites"],
    summary: "Tracking sites of a workspace",
    description:
      "The workspace's tracking sites, oldest first, each with the funnel its events feed. Any member may read them.",
    protect: true,
    errorResponses: READ_ERRORS,
  },
};

export const ZSiteView = z.object({
  id: z.string().describe("The site id: `siteId` of events and of the snippet's `data-site`."),
  name: z.string(),
  domain: z.string(),
  funnelId: z.string().describe("The funnel whose stages this site's events move."),
  identityVerification: z
    .object({
      required: z
        .boolean()
        .describe("Whether browser emails need a valid `emailHmac` (sites.setIdentityVerification)."),
      secretSet: z.boolean().describe("Whether the site has a secret; the secret itself is never returned."),
    })
    .describe("Identity verification of browser emails."),
});

export const ZListSitesOutput = z.object({ items: z.array(ZSiteView) });

export type TListSitesOutput = z.infer<typeof ZListSitesOutput>;
