import { DomainError, type TIssue } from "../../errors/domain-error.ts";
import type { TEventSource } from "../../db/enums.ts";
import type { TServerEvent } from "../server-event.schema.ts";

/**
 * Who records the batch: each way in authenticates on its own and names itself here. Below this
 * module the door is known only through what these rules decide.
 * - session: a workspace member; an event's `userId` must be that member's own id.
 * - apiKey: a backend holding a workspace API key; an event's `userId` is the customer's own user
 *   id (a USER_ID identifier), and the event is attributed to the key.
 * - stripe: a verified Stripe webhook delivery, attributed to the Stripe event it translates.
 * - browser: the tracking snippet on one of the site's pages (`POST /api/collect`), unauthenticated
 *   but checked against the site's domain; its events are stored with source CLIENT, never a userId.
 */
export type TActor =
  | { kind: "session"; userId: string }
  | { kind: "apiKey"; keyId: string }
  | { kind: "stripe"; eventId: string }
  | { kind: "browser"; siteId: string };

/** For a session, every event's `userId` must be the caller's own: otherwise the request is refused whole. */
export function requireOwnUserIds(actor: TActor, events: readonly { userId?: string }[]): void {
  if (actor.kind !== "session") return;
  const foreign: TIssue[] = events.flatMap((e, i) =>
    e.userId !== undefined && e.userId !== actor.userId
      ? [{ path: ["events", i, "userId"], code: "forbidden", message: "must be your own user id (the session user's)" }]
      : [],
  );
  if (foreign.length) {
    throw new DomainError("USER_ID_MISMATCH", "userId may only be the session user's own id", foreign);
  }
}

/**
 * `user:<id>`, `key:<id>`, `stripe:<evt id>` or `browser:<site id>`: which door and which
 * principal recorded an event.
 */
export function recordedBy(actor: TActor): string {
  switch (actor.kind) {
    case "session":
      return `user:${actor.userId}`;
    case "apiKey":
      return `key:${actor.keyId}`;
    case "stripe":
      return `stripe:${actor.eventId}`;
    case "browser":
      return `browser:${actor.siteId}`;
  }
}

/** A session's events carry the member's id; a key's carry the customer's own user id, if any; a browser's none. */
export function storedUserId(actor: TActor, event: TServerEvent): string | null {
  switch (actor.kind) {
    case "session":
      return actor.userId;
    case "apiKey":
    case "stripe":
      return event.userId ?? null;
    case "browser":
      return null;
  }
}

/** Events a browser sends are CLIENT events; every other door is a backend's (SERVER). */
export function sourceOf(actor: TActor): TEventSource {
  switch (actor.kind) {
    case "browser":
      return "CLIENT";
    case "session":
    case "apiKey":
    case "stripe":
      return "SERVER";
  }
}
