import { useEffect, useRef, useState } from "preact/hooks";
import { api, toApiError, type TApiError, type TTrackingEvent } from "./api.ts";
import { POLL_DEADLINE_MS, POLL_MS } from "./polling.ts";

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

const pollTimedOut = (): TApiError => ({
  message: `The server did not answer within ${POLL_DEADLINE_MS / 1000} s; checking again.`,
  issues: [],
});

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
  /** The first page has loaded (a first poll that failed is retried as a first poll). */
  const started = useRef(false);

  const fetchNewest = async (initial: boolean, signal: AbortSignal) => {
    const arrived: TTrackingEvent[] = [];
    let cursor: string | undefined;
    for (let pageNo = 0; pageNo < MAX_CATCH_UP_PAGES; pageNo++) {
      const page = await api.tracking.listEvents.query({ workspaceId, siteId, limit: PAGE_SIZE, cursor }, { signal });
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
    let inFlight: AbortController | undefined;
    const tick = async () => {
      const initial = !started.current;
      const poll = (inFlight = new AbortController());
      const deadline = setTimeout(() => poll.abort(), POLL_DEADLINE_MS);
      try {
        await fetchNewest(initial, poll.signal);
        started.current = true;
        setError(undefined);
      } catch (err) {
        if (stopped) return;
        setError(poll.signal.aborted ? pollTimedOut() : toApiError(err));
      } finally {
        clearTimeout(deadline);
      }
      if (stopped) return;
      setLoading(false);
      setLastCheckedAt(new Date());
      if (live) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
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
