import { useEffect, useRef, useState } from "preact/hooks";
import { api, toApiError, type TApiError, type TTrackingEvent } from "./api.ts";

/** How often the newest page is fetched again. */
export const POLL_MS = 2000;
const PAGE_SIZE = 50;
/** More pages than this arriving between two polls are left to "Load older". */
const MAX_CATCH_UP_PAGES = 5;

const newestFirst = (a: TTrackingEvent, b: TTrackingEvent) =>
  a.occurredAt === b.occurredAt ? (a.id < b.id ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1;

function merged(known: TTrackingEvent[], incoming: TTrackingEvent[]): TTrackingEvent[] {
  const byId = new Map(known.map((e) => [e.id, e]));
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort(newestFirst);
}

export type TLiveEvents = {
  events: TTrackingEvent[];
  /** Ids that arrived by polling, for highlighting and the announcement. */
  fresh: ReadonlySet<string>;
  announcement: string;
  error?: TApiError;
  loading: boolean;
  lastCheckedAt?: Date;
  live: boolean;
  setLive: (live: boolean) => void;
  hasOlder: boolean;
  loadOlder: () => Promise<void>;
};

/**
 * A site's events, newest first, kept current by polling the newest page every POLL_MS and
 * merging by id (a page full of unknown events fetches the next one, so a burst is not cut).
 * Older pages come from the keyset cursor of the oldest page loaded.
 */
export function useLiveEvents(workspaceId: string, siteId: string): TLiveEvents {
  const [events, setEvents] = useState<TTrackingEvent[]>([]);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [announcement, setAnnouncement] = useState("");
  const [error, setError] = useState<TApiError>();
  const [loading, setLoading] = useState(true);
  const [lastCheckedAt, setLastCheckedAt] = useState<Date>();
  const [live, setLive] = useState(true);
  const olderCursor = useRef<string | null | undefined>(undefined);
  const known = useRef(new Set<string>());

  const fetchNewest = async (initial: boolean) => {
    const arrived: TTrackingEvent[] = [];
    let cursor: string | undefined;
    for (let pageNo = 0; pageNo < MAX_CATCH_UP_PAGES; pageNo++) {
      const page = await api.tracking.listEvents.query({ workspaceId, siteId, limit: PAGE_SIZE, cursor });
      arrived.push(...page.items);
      if (initial) olderCursor.current = page.nextCursor;
      const reachedKnown = page.items.some((e) => known.current.has(e.id));
      if (initial || reachedKnown || !page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const added = arrived.filter((e) => !known.current.has(e.id));
    for (const e of added) known.current.add(e.id);
    setEvents((list) => merged(list, arrived));
    if (!initial && added.length > 0) {
      setFresh(new Set(added.map((e) => e.id)));
      setAnnouncement(
        `${added.length} new ${added.length === 1 ? "event" : "events"}: ${added.map((e) => e.type).join(", ")}`,
      );
    }
  };

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (initial: boolean) => {
      try {
        await fetchNewest(initial);
        setError(undefined);
      } catch (err) {
        setError(toApiError(err));
      }
      if (stopped) return;
      setLoading(false);
      setLastCheckedAt(new Date());
      if (live) timer = setTimeout(() => void tick(false), POLL_MS);
    };
    void tick(known.current.size === 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [workspaceId, siteId, live]);

  const loadOlder = async () => {
    if (!olderCursor.current) return;
    try {
      const page = await api.tracking.listEvents.query({
        workspaceId,
        siteId,
        limit: PAGE_SIZE,
        cursor: olderCursor.current,
      });
      olderCursor.current = page.nextCursor;
      for (const e of page.items) known.current.add(e.id);
      setEvents((list) => merged(list, page.items));
    } catch (err) {
      setError(toApiError(err));
    }
  };

  return {
    events,
    fresh,
    announcement,
    error,
    loading,
    lastCheckedAt,
    live,
    setLive,
    hasOlder: Boolean(olderCursor.current),
    loadOlder,
  };
}
