import { z } from "zod";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "../db/storable.ts";
import type { TIssue } from "../errors/domain-error.ts";
import {
  MAX_EVENTS_PER_REQUEST,
  RECORD_SERVER_EVENTS_FIELDS,
  refineIdentity,
  refineRequest,
  ZServerEvent,
  type TServerEvent,
} from "./server-event.schema.ts";

/** The `utm_*` query parameters a page URL may carry, mapped to the event's `utm` fields. */
const UTM_PARAMS = ["source", "medium", "campaign", "term", "content"] as const;
/** The length the `utm` fields store (longer values are cut, like any other query junk). */
const MAX_UTM_LENGTH = 256;

/**
 * A browser's event: a server event's fields and `emailHmac`, the proof of the email that a site
 * requiring identity verification asks for (identity-verification.ts).
 */
export const ZCollectEvent = z
  .strictObject({
    ...ZServerEvent.shape,
    emailHmac: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[0-9a-f]{64}$/, "must be the hex HMAC-SHA256 of the email (64 hex characters)")
      .optional()
      .describe(
        "Hex HMAC-SHA256 of the normalized (trimmed, lower-cased) email, keyed with the site's identity " +
          "verification secret and computed by your backend. Checked only when the site requires identity " +
          "verification; then an email without a valid one is not recorded.",
      ),
  })
  .superRefine((e, ctx) => {
    refineIdentity(e, ctx);
    if (e.emailHmac !== undefined && e.email === undefined)
      ctx.addIssue({ code: "custom", path: ["emailHmac"], message: "is the HMAC of an email: send it with the email" });
  });

/**
 * A browser's batch (`POST /api/collect`): the same fields and limits as a server batch (≤ 50
 * events, props ≤ 8 KB, …) with the site id in the body or the `site` query parameter. A browser
 * cannot vouch for a user id, so `userId` is refused; an event needs a visitorId (the `_fn_vid`
 * cookie) or an email, and may carry the email's `emailHmac`.
 */
export const ZCollectBody = z
  .strictObject({
    ...RECORD_SERVER_EVENTS_FIELDS,
    siteId: RECORD_SERVER_EVENTS_FIELDS.siteId.optional(),
    events: z
      .array(ZCollectEvent)
      .min(1, "must contain at least 1 event")
      .max(MAX_EVENTS_PER_REQUEST, `must contain at most ${MAX_EVENTS_PER_REQUEST} events`),
  })
  .superRefine((req, ctx) => {
    refineRequest(req, ctx);
    req.events.forEach((e, i) => {
      if (e.userId !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["events", i, "userId"],
          message: "is not accepted from a browser: send it from your backend (tracking.recordServerEvents)",
        });
    });
  });

export type TCollectBody = z.infer<typeof ZCollectBody>;

/** The site a batch names: the body's `siteId` and the `site` query parameter must agree when both are given. */
export function collectSiteId(bodySiteId: string | undefined, querySiteId: unknown): string | TIssue {
  const fromQuery = typeof querySiteId === "string" && querySiteId !== "" ? querySiteId : undefined;
  if (bodySiteId !== undefined && fromQuery !== undefined && bodySiteId !== fromQuery)
    return { path: ["siteId"], code: "mismatch", message: "differs from the site query parameter" };
  const siteId = bodySiteId ?? fromQuery;
  if (siteId === undefined)
    return { path: ["siteId"], code: "required", message: "is required (in the body, or as the site query parameter)" };
  if (!isStorableText(siteId)) return { path: ["siteId"], code: "invalid_string", message: UNSTORABLE_TEXT_MESSAGE };
  return siteId;
}

/**
 * The page URL's `utm_*` parameters as the event's `utm`, unless the event carries its own: the
 * snippet sends the path with its query string, and the UTM columns are filled from it.
 */
export function withUtmFromPath(event: TServerEvent): TServerEvent {
  if (event.utm !== undefined || !event.path?.includes("?")) return event;
  const query = new URLSearchParams(event.path.split("#")[0]!.split("?").slice(1).join("?"));
  const utm: NonNullable<TServerEvent["utm"]> = {};
  for (const name of UTM_PARAMS) {
    const value = query.get(`utm_${name}`)?.slice(0, MAX_UTM_LENGTH);
    // A value the database cannot store as sent (a NUL, half a surrogate pair) is left out.
    if (value && isStorableText(value)) utm[name] = value;
  }
  return Object.keys(utm).length ? { ...event, utm } : event;
}
