import { z } from "zod";
import { CHANNELS, FUNNEL_STAGES } from "../db/enums.ts";

/** What the use case answers per event: the schema is the one definition, the types are inferred from it. */
export const ZRecordedEvent = z.object({
  index: z.number().int().describe("Position of the event in the request."),
  eventId: z.string().describe("The TrackingEvent id (for a duplicate: the originally recorded event)."),
  profileId: z.string().describe("The profile the event is on (after any merge)."),
  status: z
    .enum(["recorded", "duplicate"])
    .describe(
      "`recorded` now, or `duplicate`: its messageId was already recorded for the site through a door of the same " +
        "trust (the browser's ids and the backends' are apart), nothing was written again.",
    ),
  channel: z.enum(CHANNELS).describe("Acquisition channel categorized from referrer, UTM and click ids."),
  stage: z.enum(FUNNEL_STAGES).describe("The profile's stage in the site's funnel after this request."),
  merged: z
    .array(z.string())
    .optional()
    .describe("Profiles this event merged into `profileId` (they now redirect to it)."),
  mergeRefused: z
    .object({ profileIds: z.array(z.string()), reason: z.literal("different_email") })
    .optional()
    .describe(
      "Profiles sharing an identifier with this event that were NOT merged because they carry a different email.",
    ),
  stageCapped: z
    .object({ requested: z.enum(FUNNEL_STAGES), ceiling: z.enum(FUNNEL_STAGES) })
    .optional()
    .describe(
      "Set when the event's type implies a stage past what its door may reach (the browser door: the site's " +
        "ceiling, TRIAL by default, never CUSTOMER): the event is recorded as sent, but it moved the profile to " +
        "`ceiling` at most, not to `requested`.",
    ),
});
export type TRecordedEvent = z.infer<typeof ZRecordedEvent>;

export const ZRecordResult = z.object({
  accepted: z.number().int().describe("Events recorded now."),
  duplicates: z
    .number()
    .int()
    .describe("Events already recorded earlier (same messageId for the site, through a door of the same trust)."),
  events: z.array(ZRecordedEvent).describe("One entry per event of the request, in request order."),
});
export type TRecordResult = z.infer<typeof ZRecordResult>;
