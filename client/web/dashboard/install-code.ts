/** The install instructions of a site, filled in with this server's origin and the site's ids. */

export const QUEUE_STUB =
  "window.funnelfizz=window.funnelfizz||function(){(funnelfizz.q=funnelfizz.q||[]).push(arguments)}";

export function snippetTag(origin: string, siteId: string): string {
  return `<script async src="${origin}/fz.js" data-site="${siteId}"></script>`;
}

export function stubTag(): string {
  return `<script>${QUEUE_STUB}</script>`;
}

/** Shell-quoted for single quotes. */
const sq = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export function loginCurl(origin: string, email: string): string {
  const body = JSON.stringify({ email, password: "<password>" });
  return `curl -c cookies.txt -H 'Content-Type: application/json' \\\n  -d ${sq(body)} ${origin}/api/auth/login`;
}

export function recordCurl(origin: string, workspaceId: string, siteId: string): string {
  const body = JSON.stringify({
    siteId,
    // Shaped like a real visitor id; the messageId makes a second run a duplicate, not a second signup.
    events: [
      {
        type: "signup",
        visitorId: "v_8f14e45fceea167a5a36dedd4bea2543",
        email: "user@example.com",
        messageId: "signup-user@example.com",
      },
    ],
  });
  const url = `${origin}/api/tracking/server-events?workspaceId=${encodeURIComponent(workspaceId)}`;
  return `curl -b cookies.txt -H 'Content-Type: application/json' \\\n  -d ${sq(body)} \\\n  ${sq(url)}`;
}

/** The event the "Send a test server event" button records: its own visitor, so it is easy to find. */
export function testEvent(siteId: string, workspaceId: string) {
  const visitorId = `v_dashboard_test_${Date.now().toString(36)}`;
  return { workspaceId, siteId, events: [{ type: "dashboard_test", visitorId, path: "/dashboard-test" }] };
}
