import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, toApiError, type TApiError, type TProfilePage, type TTimelineItem } from "../api.ts";
import { paths } from "../router.ts";
import { ErrorBox, Link, Loading, PageTitle, SourceBadge, TableHead, Time } from "../ui.tsx";

const PAGE_SIZE = 50;

/** One person: identifiers, stage per funnel, counters, and the timeline (newest first, older on demand). */
export function ProfilePage({ workspaceId, profileId }: { workspaceId: string; profileId: string }) {
  const [first, setFirst] = useState<TProfilePage>();
  const [timeline, setTimeline] = useState<TTimelineItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<TApiError>();

  useEffect(() => {
    setFirst(undefined);
    setError(undefined);
    api.profiles.get.query({ workspaceId, profileId, limit: PAGE_SIZE }).then(
      (page) => {
        setFirst(page);
        setTimeline(page.timeline.items);
        setCursor(page.timeline.nextCursor);
      },
      (err: unknown) => setError(toApiError(err)),
    );
  }, [workspaceId, profileId]);

  const loadOlder = async () => {
    if (!cursor) return;
    try {
      const page = await api.profiles.get.query({ workspaceId, profileId, limit: PAGE_SIZE, cursor });
      setTimeline((items) => [...items, ...page.timeline.items]);
      setCursor(page.timeline.nextCursor);
    } catch (err) {
      setError(toApiError(err));
    }
  };

  if (!first)
    return (
      <section>
        <PageTitle>Profile</PageTitle>
        {error ? <ErrorBox error={error} /> : <Loading what="the profile" />}
      </section>
    );
  const { profile, redirectedFrom } = first;
  return (
    <section>
      <PageTitle>
        Profile <code>{profile.id}</code>
      </PageTitle>
      {redirectedFrom && (
        <p class="notice">
          Profile <code>{redirectedFrom}</code> was merged into this one.
        </p>
      )}
      {error && <ErrorBox error={error} />}
      <div class="columns">
        <div>
          <h2>Identifiers</h2>
          <dl class="pairs" aria-label="Identifiers">
            {profile.identifiers.map((i) => (
              <Fragment key={`${i.kind}:${i.value}`}>
                <dt>{i.kind}</dt>
                <dd>{i.value}</dd>
              </Fragment>
            ))}
          </dl>
        </div>
        <div>
          <h2>Counters</h2>
          <dl class="pairs" aria-label="Counters">
            <dt>Events</dt>
            <dd>{profile.eventCount}</dd>
            <dt>Server events</dt>
            <dd>{profile.serverEventCount}</dd>
            <dt>Pageviews</dt>
            <dd>{profile.pageviewCount}</dd>
            <dt>First seen</dt>
            <dd>
              <Time iso={profile.firstSeenAt} />
            </dd>
            <dt>Last seen</dt>
            <dd>
              <Time iso={profile.lastSeenAt} />
            </dd>
          </dl>
        </div>
      </div>
      <h2>Stage per funnel</h2>
      <table class="stages">
        <TableHead columns={["Funnel", "Stage", "Stage since", "Events", "First seen", "Last seen"]} />
        <tbody>
          {profile.funnelLinks.map((l) => (
            <tr key={l.funnelId}>
              <th scope="row">
                <code>{l.funnelId}</code>
              </th>
              <td>{l.currentStage}</td>
              <td>
                <Time iso={l.stageChangedAt} />
              </td>
              <td>{l.eventCount}</td>
              <td>
                <Time iso={l.firstSeenAt} />
              </td>
              <td>
                <Time iso={l.lastSeenAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Timeline</h2>
      <Timeline workspaceId={workspaceId} items={timeline} />
      {cursor && (
        <button type="button" class="secondary" onClick={() => void loadOlder()}>
          Older
        </button>
      )}
    </section>
  );
}

function Timeline({ workspaceId, items }: { workspaceId: string; items: TTimelineItem[] }) {
  if (items.length === 0) return <p>No events on this profile.</p>;
  return (
    <table class="timeline">
      <TableHead caption="Timeline of the profile, newest first" columns={["Time", "Event", "Source", "Details"]} />
      <tbody>
        {items.map((item) => (
          <tr key={item.id} class={item.type === "$merge" ? "merge" : undefined}>
            <td>
              <Time iso={item.occurredAt} />
            </td>
            <td>{item.type === "$merge" ? <strong>Merge</strong> : <code>{item.type}</code>}</td>
            <td>
              <SourceBadge source={item.source} />
            </td>
            <td>
              <TimelineDetail workspaceId={workspaceId} item={item} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type TMergeDetail = { mergedProfileId?: unknown; identifier?: { kind?: unknown; value?: unknown } };

function TimelineDetail({ workspaceId, item }: { workspaceId: string; item: TTimelineItem }) {
  if (item.type !== "$merge") return <span class="muted small">{item.trackingEventId}</span>;
  const detail = (item.detail ?? {}) as TMergeDetail;
  const merged = typeof detail.mergedProfileId === "string" ? detail.mergedProfileId : undefined;
  const by = detail.identifier;
  return (
    <span>
      Merged profile{" "}
      {merged ? (
        <Link href={paths.profile(workspaceId, merged)}>
          <code>{merged}</code>
        </Link>
      ) : (
        "(unknown)"
      )}{" "}
      into this one
      {by && typeof by.kind === "string" && typeof by.value === "string" && ` (same ${by.kind}: ${by.value})`}
    </span>
  );
}
