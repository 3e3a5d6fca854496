import { useState } from "preact/hooks";
import { api, type TCollectStats } from "../api.ts";
import { useCall } from "../use-call.ts";
import { ErrorBox, Loading } from "../ui.tsx";

type TReason = TCollectStats["reasons"][number]["reason"];

const LABELS: Record<TReason, string> = {
  bot: "bot",
  origin_refused: "wrong origin",
  invalid: "invalid",
  rate_limited: "rate limited",
  unverified_email: "unverified email",
};

/** One line each: why the collect door said no, and what to do about it. */
const EXPLANATIONS: Record<TReason, string> = {
  bot:
    "The User-Agent was a crawler's, a headless browser's (Playwright, Puppeteer, HeadlessChrome) or an HTTP " +
    "library's: acknowledged, not recorded.",
  origin_refused:
    "The page's Origin was not this site's domain (or was missing): another site, or a page served from another host.",
  invalid: "The body was not a valid batch: the answer's issues name the field.",
  rate_limited: "Too many visitors, emails or requests from one address or one visitor; the answer had Retry-After.",
  unverified_email:
    "Emails left out for want of a valid emailHmac (identity verification is required); the rest of each event " +
    "was recorded.",
};

const summary = (items: { reason: TReason; count: number }[]) =>
  items.length === 0 ? "nothing" : items.map((r) => `${r.count} ${LABELS[r.reason]}`).join(", ");

/**
 * What `/api/collect` ignored or refused for this site lately, by reason (sites.collectStats):
 * a page tested with a headless browser records nothing, and this is where that shows.
 */
export function IgnoredTrafficSection({ workspaceId, siteId }: { workspaceId: string; siteId: string }) {
  const [version, setVersion] = useState(0);
  const stats = useCall(`${workspaceId}:${siteId}:${version}`, () =>
    api.sites.collectStats.query({ workspaceId, siteId }),
  );
  const reasons = stats.data?.reasons ?? [];
  const lastHour = reasons.filter((r) => r.lastHour > 0).map((r) => ({ reason: r.reason, count: r.lastHour }));
  const lastDay = reasons.map((r) => ({ reason: r.reason, count: r.last24Hours }));
  return (
    <section aria-labelledby="ignored-traffic">
      <h2 id="ignored-traffic">Ignored traffic</h2>
      {stats.error && <ErrorBox error={stats.error} />}
      {stats.loading && !stats.data && <Loading what="the ignored traffic" />}
      {stats.data && (
        <>
          <p id="ignored-last-hour" role="status">
            Ignored in the last hour: {summary(lastHour)}.
          </p>
          <p id="ignored-last-day" class="muted">
            In the last 24 hours: {summary(lastDay)}.
          </p>
          {reasons.length > 0 && (
            <dl class="ignored-reasons">
              {reasons.map((r) => (
                <div key={r.reason} data-reason={r.reason}>
                  <dt>{LABELS[r.reason]}</dt>
                  <dd>{EXPLANATIONS[r.reason]}</dd>
                </div>
              ))}
            </dl>
          )}
        </>
      )}
      <p class="muted">
        Testing with a headless browser? See "Testing with Playwright" in docs/collect.md, and the snippet's{" "}
        <code>data-debug</code> attribute, which logs each answer to the console. Counts come from{" "}
        <a href="/api/docs#/sites">sites.collectStats</a>.{" "}
        <button type="button" class="secondary" onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </button>
      </p>
    </section>
  );
}
