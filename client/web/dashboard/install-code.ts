import type { TValidId } from "./ids.ts";
import { htmlAttr, shellQuote } from "./quote.ts";

/**
 * The install instructions of a site, filled in with this server's origin and the site's ids. Ids
 * are only taken validated (`TValidId`), and every value is still escaped for where it lands.
 */

export const QUEUE_STUB =
  "window.funnelfizz=window.funnelfizz||function(){(funnelfizz.q=funnelfizz.q||[]).push(arguments)}";

export function snippetTag(origin: string, siteId: TValidId): string {
  return `<script async src="${htmlAttr(origin)}/fz.js" data-site="${htmlAttr(siteId)}"></script>`;
}

export function stubTag(): string {
  return `<script>${QUEUE_STUB}</script>`;
}

export function loginCurl(origin: string, email: string): string {
  const body = JSON.stringify({ email, password: "<password>" });
  const url = shellQuote(`${origin}/api/auth/login`);
  return `curl -c cookies.txt -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)} ${url}`;
}

export function recordCurl(origin: string, workspaceId: TValidId, siteId: TValidId): string {
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
  const url = shellQuote(`${origin}/api/tracking/server-events?workspaceId=${encodeURIComponent(workspaceId)}`);
  return `curl -b cookies.txt -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)} \\\n  ${url}`;
}

/** The event the "Send a test server event" button records: its own visitor, so it is easy to find. */
export function testEvent(siteId: string, workspaceId: string) {
  const visitorId = `v_dashboard_test_${Date.now().toString(36)}`;
  return { workspaceId, siteId, events: [{ type: "dashboard_test", visitorId, path: "/dashboard-test" }] };
}
