import { z } from "zod";
import {
  MAX_EVENTS_PER_REQUEST,
  MAX_PROPS_BYTES,
  RECORD_SERVER_EVENTS_FIELDS,
  refineRequest,
} from "../../tracking/server-event.schema.ts";
import { ZRecordResult } from "../../tracking/recorded-event.schema.ts";
import { ZWorkspaceScope } from "../middlewares.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";
import { EXAMPLE_IDS } from "../shared/examples.types.ts";

/** Filled in from the configuration when the document is built (`SERVER_EVENTS_RATE_LIMIT` and its window). */
export const SERVER_EVENTS_RATE_LIMIT_SLOT = "{serverEventsRateLimit}";

export const recordServerEventsMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/tracking/server-events",
    tags: ["tracking"],
    summary: "Record server-side events",
    description: [
      "Records events that happened on your server into the same event log and profile timelines as browser " +
        "tracking.",
      "Auth is the logged-in workspace user's session cookie (not an API key); the user needs the ADMIN or MANAGER " +
        "role in `workspaceId`, and `siteId` must be a tracking site of that workspace.",
      `Limits: 1–${MAX_EVENTS_PER_REQUEST} events per request, \`props\` at most ${MAX_PROPS_BYTES} bytes as UTF-8 ` +
        `JSON, and a rate limit counted in REQUESTS (each of up to ${MAX_EVENTS_PER_REQUEST} events) per session ` +
        `user (${SERVER_EVENTS_RATE_LIMIT_SLOT}) reported on every response in \`RateLimit-Limit\`, ` +
        "`RateLimit-Remaining` and `RateLimit-Reset` (seconds), with `Retry-After` on 429.",
      "The whole request is one transaction: every event is recorded or none is. Events with a `messageId` already " +
        "recorded for the site come back as `duplicate` with the original event id.",
    ].join("\n\n"),
    protect: true,
    responseHeaders: z.object({
      "RateLimit-Limit": z
        .string()
        .describe("Requests allowed per window for the session user.")
        .meta({ example: "600" }),
      "RateLimit-Remaining": z.string().describe("Requests left in the current window.").meta({ example: "599" }),
      "RateLimit-Reset": z.string().describe("Seconds until the window resets.").meta({ example: "3600" }),
      "X-Request-Id": z.string().describe("The request id, also in the body and the logs."),
    }),
    successDescription: "Every event of the request, recorded or reported as a duplicate.",
    errorResponses: {
      400: 'Invalid input: `data.issues` names each field, e.g. path ["events", 7, "props"]',
      401: "No valid session",
      403:
        "Not a member of the workspace, read-only role, siteId not in the workspace, a foreign userId, " +
        "or a cross-site Origin",
      413: "Body over the size limit",
      415: "Body is not JSON",
      429: "Rate limit reached; see Retry-After",
      500: "Internal error",
      503: "Session store, rate limiter or database temporarily unavailable; see Retry-After",
    },
  },
  examples: {
    // No `sentAt` or `timestamp`: a fixed date would drift out of the accepted window. The
    // `messageId` makes a second "Try it out" come back as a duplicate, not a second event.
    request: {
      siteId: EXAMPLE_IDS.siteId,
      events: [
        {
          type: "signup",
          visitorId: "v_8f14e45fceea167a5a36dedd4bea2543",
          email: "user@example.com",
          path: "/signup?utm_source=newsletter&utm_medium=email",
          props: { plan: "pro" },
          messageId: "signup-user@example.com",
        },
      ],
    } satisfies TRestBody<z.input<typeof ZRecordServerEventsInput>>,
    errors: {
      400: {
        reason: "VALIDATION_FAILED",
        message: "Input validation failed",
        issues: [
          {
            path: ["events", 0, "timestamp"],
            code: "invalid_format",
            message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T12:00:00Z",
          },
        ],
      },
      403: {
        reason: "SITE_NOT_IN_WORKSPACE",
        message: "siteId is not a tracking site of this workspace",
        issues: [{ path: ["siteId"], code: "forbidden", message: "not a tracking site of this workspace" }],
      },
    },
  },
};

/**
 * The body with its scope, strict at the top level as in each event: every input parser of the
 * procedure sees the whole input, so the strict one must know `workspaceId` too.
 */
export const ZRecordServerEventsInput = z
  .strictObject({ ...ZWorkspaceScope.shape, ...RECORD_SERVER_EVENTS_FIELDS })
  .superRefine((req, ctx) => refineRequest(req, ctx))
  .meta({
    description:
      "A batch of server-side events for one tracking site (`workspaceId` goes in the query string on REST).",
  });

export const ZRecordServerEventsOutput = z
  .object({
    requestId: z.string().describe("Also sent as X-Request-Id; quote it when reporting a problem."),
    ...ZRecordResult.shape,
  })
  .meta({
    example: {
      requestId: "req_01jd7x4k2m9q8r7s6t5v4w3x2y",
      accepted: 1,
      duplicates: 0,
      events: [
        {
          index: 0,
          eventId: "evt_01jd7x4k2mabcdefghjkmnpqrs",
          profileId: "prf_01jd7x4k2mabcdefghjkmnpqrs",
          status: "recorded",
          channel: "direct",
          stage: "CONSIDERATION",
        },
      ],
    },
  });

export type TRecordServerEventsInput = z.infer<typeof ZRecordServerEventsInput>;
export type TRecordServerEventsOutput = z.infer<typeof ZRecordServerEventsOutput>;
