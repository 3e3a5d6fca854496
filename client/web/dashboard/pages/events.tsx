import type { TTrackingEvent } from "../api.ts";
import { useLiveEvents } from "../live-events.ts";
import { POLL_MS } from "../polling.ts";
import { paths } from "../router.ts";
import { ErrorBox, Link, Loading, PageTitle, SourceBadge, TableHead, Time } from "../ui.tsx";
import { SiteNav } from "./site-nav.tsx";

/** A site's events as they arrive: newest first, polled every two seconds, with older pages on demand. */
export function EventsPage({ workspaceId, siteId }: { workspaceId: string; siteId: string }) {
  const feed = useLiveEvents(workspaceId, siteId);
  return (
    <section>
      <SiteNav workspaceId={workspaceId} siteId={siteId} current="events" />
      <PageTitle>Live events</PageTitle>
      <div class="live-bar">
        <p class={feed.live ? "live on" : "live"}>
          <span class="dot" aria-hidden="true" />
          {feed.live ? `Live: checking every ${POLL_MS / 1000} s` : "Paused"}
          {feed.lastCheckedAt && (
            <span class="muted">
              {" "}
              (last checked <Time iso={feed.lastCheckedAt.toISOString()} />)
            </span>
          )}
        </p>
        <button type="button" class="secondary" onClick={() => feed.setLive(!feed.live)}>
          {feed.live ? "Pause live updates" : "Resume live updates"}
        </button>
      </div>
      <p class="visually-hidden" aria-live="polite" aria-atomic="true">
        {feed.announcement}
      </p>
      {feed.error && <ErrorBox error={feed.error} />}
      {feed.loading ? (
        <Loading what="events" />
      ) : feed.events.length === 0 ? (
        <p>No events yet. Send one from the install page; it appears here without reloading.</p>
      ) : (
        <EventsTable workspaceId={workspaceId} events={feed.events} fresh={feed.fresh} />
      )}
      {feed.hasOlder && (
        <button type="button" class="secondary" onClick={() => void feed.loadOlder()}>
          Load older events
        </button>
      )}
    </section>
  );
}

function EventsTable(props: { workspaceId: string; events: TTrackingEvent[]; fresh: ReadonlySet<string> }) {
  return (
    <table class="events">
      <TableHead
        caption="Events of the site, newest first"
        columns={["Time", "Type", "Source", "Channel", "Visitor / email", "Profile"]}
      />
      <tbody>
        {props.events.map((e) => (
          <tr key={e.id} class={props.fresh.has(e.id) ? "fresh" : undefined} data-event-id={e.id}>
            <td>
              <Time iso={e.occurredAt} />
            </td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>
              <SourceBadge source={e.source} />
            </td>
            <td>
              {e.channel}
              <br />
              <span class="muted small">{e.channelRule}</span>
            </td>
            <td class="ident">
              {e.visitorId && <div>{e.visitorId}</div>}
              {e.email && <div>{e.email}</div>}
              {!e.visitorId && !e.email && <span class="muted">—</span>}
            </td>
            <td>
              <Link href={paths.profile(props.workspaceId, e.profileId)} label={`Profile of the ${e.type} event`}>
                Open profile
              </Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
