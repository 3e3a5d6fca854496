/**
 * The tracking snippet (`/fz.js`): loaded by one tag on the customer's pages, it keeps a
 * first-party visitor id in the `_fn_vid` cookie and sends pageviews (also on History API
 * navigations), `funnelfizz('event', …)` and `funnelfizz('identify', email, traits?, { emailHmac }?)`
 * to `/api/collect` on the host it was loaded from. Batches leave on a short timer, at 50 events,
 * and with sendBeacon when the page is hidden. It never throws into the host page: every entry point is wrapped.
 * With `data-debug` on its tag it logs to the console each batch it sends and what the server answered.
 */

type TEvent = {
  type: string;
  visitorId: string;
  messageId: string;
  path: string;
  timestamp: string;
  referrer?: string;
  email?: string;
  emailHmac?: string;
  props?: Record<string, unknown>;
};

const COOKIE = "_fn_vid";
const ONE_YEAR_SECONDS = 31536000;
const MAX_BATCH = 50;
const FLUSH_DELAY_MS = 1000;
const RETRY_DELAY_MS = 3000;
/** What the server accepts (server-event.schema.ts): a call that breaks it is dropped here, not the whole batch. */
const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Identity verification's proof of the email, computed by the site's backend (docs/collect.md). */
const EMAIL_HMAC = /^[0-9a-f]{64}$/i;
const MAX_PROPS_BYTES = 8192;
const TEXT_PLAIN = "text/plain;charset=UTF-8";

/** Runs `fn`, swallowing anything it throws: the host page must never see our errors. */
function safely<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch {
      // The host page comes first; a lost event is the price.
    }
  };
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join("");
}

/** The `_fn_vid` cookie, created on the page's own host for a year; an in-memory id when cookies are off. */
function visitorId(): string {
  try {
    // A value the server would refuse (edited by hand, another tool's) is replaced, not sent.
    const existing = /(?:^|;\s*)_fn_vid=([\w-]{8,128})(?:;|$)/.exec(document.cookie)?.[1];
    if (existing) return existing;
    const id = "v_" + randomId();
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${COOKIE}=${id}; Max-Age=${ONE_YEAR_SECONDS}; Path=/; SameSite=Lax${secure}`;
    return id;
  } catch {
    return "v_" + randomId();
  }
}

function privacySignal(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean; msDoNotTrack?: string };
  const win = window as Window & { doNotTrack?: string };
  return nav.globalPrivacyControl === true || [nav.doNotTrack, win.doNotTrack, nav.msDoNotTrack].includes("1");
}

function ownScript(): HTMLScriptElement | null {
  return (document.currentScript ??
    document.querySelector('script[data-site][src*="fz.js"]')) as HTMLScriptElement | null;
}

function start(script: HTMLScriptElement, siteId: string): (...command: unknown[]) => void {
  const endpoint = new URL("/api/collect", script.src).href + "?site=" + encodeURIComponent(siteId);
  const visitor = visitorId();
  const flag = script.getAttribute("data-debug");
  // Off unless asked: then nothing but this one check runs per batch.
  const debug =
    flag !== null && flag !== "false" ? (...args: unknown[]) => console.info("[funnelfizz]", ...args) : undefined;
  const queue: TEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastUrl = "";

  /** The debug log of one answer: its status, why nothing was recorded, and the batch. */
  const debugAnswer = (res: Response, answer: Record<string, unknown>, events: TEvent[]) => {
    const retryAfter = res.headers.get("Retry-After");
    const why =
      answer.outcome === "ignored"
        ? `ignored as ${String(answer.reason)}: nothing recorded (a headless browser's User-Agent is a bot's)`
        : answer.outcome === "recorded"
          ? "recorded"
          : res.status === 429
            ? `rate limited, retry after ${retryAfter ?? "?"} s`
            : "refused";
    debug!(`${res.status} ${why}`, answer, "sent:", events);
  };

  const post = (events: TEvent[], beacon: boolean, retried: boolean) => {
    const body = JSON.stringify({ siteId, sentAt: new Date().toISOString(), events });
    if (beacon && navigator.sendBeacon?.(endpoint, new Blob([body], { type: TEXT_PLAIN })))
      return debug?.("sent with sendBeacon (its answer cannot be read):", events);
    const retry = () => {
      if (!retried)
        setTimeout(
          safely(() => post(events, false, true)),
          RETRY_DELAY_MS,
        );
    };
    const headers = { "Content-Type": TEXT_PLAIN };
    fetch(endpoint, { method: "POST", body, keepalive: true, credentials: "omit", headers })
      .then((res) => {
        if (res.status === 429 || res.status >= 500) retry();
        if (debug) void res.json().then((answer: Record<string, unknown>) => debugAnswer(res, answer, events), debug);
      })
      .catch((err: unknown) => {
        debug?.(
          "no readable answer: a network error, or a refusal without CORS headers (the page's origin is not the " +
            "site's domain, or this address is rate limited): see the Network tab.",
          err,
          events,
        );
        retry();
      });
  };

  const flush = (beacon: boolean) => {
    clearTimeout(timer);
    timer = undefined;
    while (queue.length) post(queue.splice(0, MAX_BATCH), beacon, false);
  };

  const send = (type: string, extra: Partial<TEvent>) => {
    const { pathname, search } = location;
    queue.push({
      type,
      visitorId: visitor,
      messageId: randomId(),
      path: pathname + search,
      timestamp: new Date().toISOString(),
      ...extra,
    });
    if (queue.length >= MAX_BATCH) flush(false);
    else
      timer ??= setTimeout(
        safely(() => flush(false)),
        FLUSH_DELAY_MS,
      );
  };

  const propsOf = (value: unknown): Pick<TEvent, "props"> | undefined => {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) return;
    if (new TextEncoder().encode(JSON.stringify(value)).length > MAX_PROPS_BYTES) return;
    return { props: value as Record<string, unknown> };
  };

  /** A pageview when the URL (path and query) changed: the first load, pushState/replaceState, back/forward. */
  const pageview = safely(() => {
    const url = location.href.split("#")[0]!;
    if (url === lastUrl) return;
    const referrer = lastUrl || document.referrer;
    lastUrl = url;
    send("pageview", referrer ? { referrer } : {});
  });

  for (const method of ["pushState", "replaceState"] as const) {
    const original = history[method].bind(history);
    history[method] = (...args: Parameters<History["pushState"]>) => {
      original(...args);
      pageview();
    };
  }
  addEventListener("popstate", pageview);
  const hide = safely(() => flush(true));
  addEventListener("pagehide", hide);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && hide());
  pageview();

  return safely((...[command, a, b, c]: unknown[]) => {
    if (command === "event" && typeof a === "string" && EVENT_NAME.test(a)) {
      const props = propsOf(b);
      if (props) send(a, props);
    } else if (command === "identify" && typeof a === "string" && EMAIL.test(a.trim())) {
      const props = propsOf(b);
      // A malformed HMAC is left out rather than sent: the server would refuse the whole batch for it.
      const emailHmac = (c as { emailHmac?: unknown } | undefined)?.emailHmac;
      const proof = typeof emailHmac === "string" && EMAIL_HMAC.test(emailHmac) ? { emailHmac } : {};
      if (props) send("identify", { email: a.trim(), ...proof, ...props });
    }
  });
}

safely(() => {
  const stub = window.funnelfizz as (Window["funnelfizz"] & { q?: ArrayLike<unknown>[] }) | undefined;
  const queued = Array.from(stub?.q ?? []);
  const script = ownScript();
  const siteId = script?.getAttribute("data-site");
  const optedOut = script?.hasAttribute("data-respect-dnt") && privacySignal();
  // Without a site, or with a privacy signal the site respects: nothing is sent and no cookie set.
  const command: (...args: unknown[]) => void = script && siteId && !optedOut ? start(script, siteId) : () => undefined;
  window.funnelfizz = command;
  for (const args of queued) command(...Array.from(args));
})();
