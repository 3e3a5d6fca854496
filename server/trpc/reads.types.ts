import { z } from "zod";
import { IDENTIFIER_KINDS } from "../db/enums.ts";
import { CHANNELS } from "../tracking/channel-rules.ts";
import { CURSOR_MESSAGE, parseCursor } from "../tracking/read-profiles.ts";
import { FUNNEL_STAGES } from "../tracking/stages.ts";

/** Shared pieces of the read endpoints' schemas. */
export const ZPageQuery = z.object({
  cursor: z
    .string()
    .max(200)
    .refine((c) => parseCursor(c) !== undefined, CURSOR_MESSAGE)
    .optional()
    .describe("`nextCursor` of the previous page."),
  // A preprocess pipe, not a bare z.number(): trpc-to-openapi switches coercion on for those (docs/trpc-openapi.md #2).
  limit: z
    .preprocess(
      (v) => (typeof v === "string" && /^\d{1,4}$/.test(v) ? Number(v) : v),
      z
        .number({ error: "must be a whole number from 1 to 200" })
        .int("must be a whole number")
        .min(1, "must be at least 1")
        .max(200, "must be at most 200"),
    )
    .optional()
    .describe("Page size, 1–200 (default 50)."),
});

const ZIso = z.string().describe("ISO 8601 date-time.");

export const ZProfile = z.object({
  id: z.string(),
  identifiers: z.array(z.object({ kind: z.enum(IDENTIFIER_KINDS), value: z.string() })),
  funnelLinks: z.array(
    z.object({
      funnelId: z.string(),
      currentStage: z.enum(FUNNEL_STAGES),
      stageChangedAt: ZIso,
      eventCount: z.number().int(),
      firstSeenAt: ZIso,
      lastSeenAt: ZIso,
    }),
  ),
  eventCount: z.number().int(),
  serverEventCount: z.number().int(),
  pageviewCount: z.number().int(),
  firstSeenAt: ZIso,
  lastSeenAt: ZIso,
});

export const ZTimelineItem = z.object({
  id: z.string(),
  type: z.string().describe("The event type, or `$merge` for a merge entry."),
  occurredAt: ZIso,
  funnelId: z.string(),
  trackingEventId: z.string().nullable(),
  detail: z.unknown().nullable().describe("For `$merge`: the merged profile id and the identifier that linked them."),
});

export const ZTrackingEventView = z.object({
  id: z.string(),
  source: z.enum(["SERVER", "CLIENT"]),
  type: z.string(),
  visitorId: z.string().nullable(),
  email: z.string().nullable(),
  userId: z.string().nullable(),
  profileId: z.string().describe("The profile the event is on now (the survivor, if its profile was merged since)."),
  path: z.string().nullable(),
  referrer: z.string().nullable(),
  utm: z.object({
    source: z.string().nullable(),
    medium: z.string().nullable(),
    campaign: z.string().nullable(),
    term: z.string().nullable(),
    content: z.string().nullable(),
  }),
  channel: z.enum(CHANNELS),
  channelRule: z.string().describe("Which rule decided the channel, e.g. `utm_medium:cpc` or `referrer:google.com`."),
  props: z.record(z.string(), z.unknown()).nullable(),
  messageId: z.string().nullable(),
  occurredAt: ZIso,
  receivedAt: ZIso,
});

export const READ_ERRORS = {
  400: "Invalid input",
  401: "No valid session",
  403: "Not a member of the workspace",
  404: "Not found",
  503: "Session store unavailable",
};
