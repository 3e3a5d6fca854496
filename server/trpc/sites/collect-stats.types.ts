import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { COLLECT_REFUSAL_REASONS } from "../../tracking/collect-refusals.repo.ts";
import { READ_ERRORS } from "../shared/read.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const collectStatsMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/sites/collect-stats",
    tags: ["sites"],
    summary: "Browser traffic the collect door ignored or refused",
    description:
      "How many `POST /api/collect` batches of the site were ignored or refused in the last hour and the last 24 " +
      "hours, by reason: `bot` (a crawler's, headless browser's or HTTP library's User-Agent), `origin_refused` " +
      "(the page's Origin is not the site's domain), `invalid` (the body broke the schema), `rate_limited` (too many " +
      "visitors, emails or requests from one address or visitor), `unverified_email` (emails left out for want of a " +
      "valid `emailHmac`, one per email). Counted in the database, so across every server instance. Refusals before " +
      "the site is known (the per-address limit, an unknown site id) are in /metrics only. Any member may read them.",
    protect: true,
    errorResponses: { ...READ_ERRORS, 403: "Not a member of the workspace, or the site is not the workspace's" },
  },
  examples: {
    errors: {
      403: {
        reason: "SITE_NOT_IN_WORKSPACE",
        message: "siteId is not a tracking site of this workspace",
        issues: [{ path: ["siteId"], code: "forbidden", message: "not a tracking site of this workspace" }],
      },
    },
  },
};

export const ZCollectStatsInput = z.object({
  siteId: ZStorableId(40).describe("A tracking site of the workspace.").meta({ example: "site_456" }),
});

export const ZCollectStatsOutput = z.object({
  siteId: z.string(),
  reasons: z
    .array(
      z.object({
        reason: z.enum(COLLECT_REFUSAL_REASONS),
        lastHour: z.number().int().describe("Refusals in the current minute and the 59 before it."),
        last24Hours: z.number().int().describe("Refusals in the last 1,440 minutes."),
      }),
    )
    .describe("Reasons with at least one refusal in the last 24 hours, most frequent first."),
});

export type TCollectStatsOutput = z.infer<typeof ZCollectStatsOutput>;
