import { z } from "zod";
import { IDENTIFIER_KINDS } from "../../db/enums.ts";
import { FUNNEL_STAGES } from "../../tracking/stages.ts";
import { ZIsoDateTime } from "./read.types.ts";

/** A profile as the read procedures answer it (`profiles.get`, `profiles.lookup`). */
export const ZProfile = z.object({
  id: z.string(),
  identifiers: z.array(z.object({ kind: z.enum(IDENTIFIER_KINDS), value: z.string() })),
  funnelLinks: z.array(
    z.object({
      funnelId: z.string(),
      currentStage: z.enum(FUNNEL_STAGES),
      stageChangedAt: ZIsoDateTime,
      eventCount: z.number().int(),
      firstSeenAt: ZIsoDateTime,
      lastSeenAt: ZIsoDateTime,
    }),
  ),
  eventCount: z.number().int(),
  serverEventCount: z.number().int(),
  pageviewCount: z.number().int(),
  firstSeenAt: ZIsoDateTime,
  lastSeenAt: ZIsoDateTime,
});

export type TProfile = z.infer<typeof ZProfile>;
