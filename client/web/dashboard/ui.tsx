import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { TApiError } from "./api.ts";
import { navigate } from "./router.ts";

/** An in-app link: a real `<a href>` (new tab, copy link work), navigated without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string; label?: string }) {
  const { href, children, class: className, label } = props;
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} class={className} aria-label={label} onClick={onClick}>
      {children}
    </a>
  );
}

/** The page's one h1; focused after each navigation so screen readers announce the new page. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** An API error with its message, reason, status and field issues: what went wrong, never a blank page. */
export function ErrorBox({ error }: { error: TApiError }) {
  return (
    <div class="error" role="alert">
      <p>
        <strong>{error.message}</strong>
      </p>
      {error.reason && (
        <p class="error-reason">
          Reason: <code>{error.reason}</code>
          {error.status ? ` (HTTP ${error.status})` : ""}
          {error.requestId ? `, request ${error.requestId}` : ""}
        </p>
      )}
      {error.issues.length > 0 && (
        <ul>
          {error.issues.map((issue, i) => (
            <li key={i}>
              <code>{issue.path.join(".") || "(input)"}</code>: {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function Time({ iso }: { iso: string }) {
  return <time dateTime={iso}>{dateTime.format(new Date(iso))}</time>;
}

const SOURCE_LABELS = { SERVER: "Server", CLIENT: "Browser" } as const;

/** Server-recorded and browser-recorded events told apart by word, not only by colour. */
export function SourceBadge({ source }: { source: keyof typeof SOURCE_LABELS | null }) {
  if (!source) return <span class="muted">—</span>;
  return <span class={`badge badge-${source.toLowerCase()}`}>{SOURCE_LABELS[source]}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A table's caption (for screen readers; the page's heading says it to the eye) and its column headers. */
export function TableHead({ caption, columns }: { caption?: string; columns: readonly string[] }) {
  return (
    <>
      {caption && <caption class="visually-hidden">{caption}</caption>}
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
    </>
  );
}
