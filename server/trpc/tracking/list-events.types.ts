import { z } from "zod";
import { EVENT_SOURCES } from "../../db/enums.ts";
import { ZStorableId } from "../../db/storable.ts";
import { CHANNELS } from "../../tracking/channel-rules.ts";
import { INVALID_LIMIT_EXAMPLE, READ_ERRORS, ZIsoDateTime, ZPageOf, ZPageQuery } from "../shared/read.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const listEventsMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/tracking/events",
    tags: ["tracking"],
    summary: "Recent events of a site",
    description:
      "Events of a tracking site, newest first, cursor-paginated, each with its channel and the rule that decided it.",
    protect: true,
    errorResponses: READ_ERRORS,
  },
  examples: { errors: { 400: INVALID_LIMIT_EXAMPLE } },
};

export const ZTrackingEventView = z.object({
  id: z.string(),
  source: z.enum(EVENT_SOURCES),
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
  occurredAt: ZIsoDateTime,
  receivedAt: ZIsoDateTime,
});

export const ZListEventsInput = ZPageQuery.extend({
  siteId: ZStorableId(40).describe("A tracking site of the workspace."),
});
export const ZListEventsOutput = ZPageOf(ZTrackingEventView);

export type TListEventsInput = z.infer<typeof ZListEventsInput>;
export type TListEventsOutput = z.infer<typeof ZListEventsOutput>;
