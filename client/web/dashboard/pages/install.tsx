import { useState } from "preact/hooks";
import { api, toApiError, type TApiError, type TRecordResult } from "../api.ts";
import { loginCurl, recordCurl, snippetTag, stubTag, testEvent } from "../install-code.ts";
import { paths } from "../router.ts";
import { roleIn, useSession } from "../session.ts";
import { ErrorBox, Link, Loading, PageTitle } from "../ui.tsx";
import { CodeBlock } from "./code-block.tsx";
import { IdentityVerificationSection } from "./identity-verification.tsx";
import { IgnoredTrafficSection } from "./ignored-traffic.tsx";
import { SiteNav } from "./site-nav.tsx";
import { SiteNotFound, useSiteOfWorkspace } from "./site-of-workspace.tsx";

const WRITE_ROLES = new Set(["ADMIN", "MANAGER"]);

/** Whether the role may record server events (the snippet needs no role: it is shown to all). */
const mayRecord = (role: string | undefined) => role !== undefined && WRITE_ROLES.has(role);

/**
 * What to paste where: the browser snippet, the curl for server events, and a test event button.
 * Only for a site of the workspace, and built from its validated ids: the URL's text is never copied.
 */
export function InstallPage(props: { workspaceId: string; siteId: string }) {
  const session = useSession();
  const found = useSiteOfWorkspace(props.workspaceId, props.siteId);
  if (found.state === "loading") return <Loading what="the site" />;
  if (found.state === "failed") return <ErrorBox error={found.error} />;
  if (found.state === "missing") return <SiteNotFound error={found.error} />;
  const { workspaceId, siteId } = found;
  const origin = location.origin;
  const role = roleIn(session, workspaceId);
  return (
    <section>
      <SiteNav workspaceId={workspaceId} siteId={siteId} current="install" />
      <PageTitle>Install</PageTitle>
      <h2>Browser snippet</h2>
      <p>Add this tag to every page of the site, before the closing head tag:</p>
      <CodeBlock id="snippet" label="Snippet tag" code={snippetTag(origin, siteId)} />
      <p>
        To call <code>funnelfizz("event", …)</code> or <code>funnelfizz("identify", email)</code> before the snippet has
        loaded, put this one-line queue stub first:
      </p>
      <CodeBlock id="stub" label="Queue stub" code={stubTag()} />
      <p>
        While testing, add <code>data-debug</code> to the tag: the snippet then logs to the browser console what it sent
        and why nothing was recorded (ignored as a bot, refused, rate limited).
      </p>
      <IgnoredTrafficSection workspaceId={workspaceId} siteId={siteId} />
      <IdentityVerificationSection workspaceId={workspaceId} siteId={siteId} role={role} />
      <h2>Server events</h2>
      {mayRecord(role) ? (
        <>
          <p>Log in once (the cookie goes into cookies.txt), then record events from your backend:</p>
          <CodeBlock id="curl-login" label="Log in with curl" code={loginCurl(origin, session.user.email)} />
          <CodeBlock
            id="curl-record"
            label="Record a server event with curl"
            code={recordCurl(origin, workspaceId, siteId)}
          />
          <h2>Send a test server event</h2>
          <TestEventButton workspaceId={workspaceId} siteId={siteId} />
        </>
      ) : (
        <p id="record-role-note" class="notice">
          Your role {role ?? "(none)"} can read this workspace&apos;s events but not record them, so the curl and the
          test event button are not shown here. To record server events, ask an ADMIN of the workspace for the MANAGER
          role, or for an API key.
        </p>
      )}
    </section>
  );
}

function TestEventButton(props: { workspaceId: string; siteId: string }) {
  const { workspaceId, siteId } = props;
  const [result, setResult] = useState<TRecordResult>();
  const [error, setError] = useState<TApiError>();
  const [busy, setBusy] = useState(false);

  const send = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await api.tracking.recordServerEvents.mutate(testEvent(siteId, workspaceId)));
    } catch (err) {
      setError(toApiError(err));
    }
    setBusy(false);
  };

  const recorded = result?.events[0];
  return (
    <div class="test-event">
      <p>
        Records one <code>dashboard_test</code> event through the API, as your backend would.
      </p>
      <button type="button" disabled={busy} aria-describedby="test-event-why" onClick={() => void send()}>
        {busy ? "Sending…" : "Send a test server event"}
      </button>
      <p id="test-event-why" class="muted">
        It appears on the live events page within two seconds.
      </p>
      {error && <ErrorBox error={error} />}
      {recorded && (
        <p class="notice" role="status">
          Recorded event <code>{recorded.eventId}</code> ({recorded.status}).{" "}
          <Link href={paths.profile(workspaceId, recorded.profileId)}>Open its profile</Link> or{" "}
          <Link href={paths.events(workspaceId, siteId)}>see it in live events</Link>.
        </p>
      )}
    </div>
  );
}
