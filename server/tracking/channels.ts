import {
  AI_HOSTS,
  AI_SOURCES,
  CLICK_ID_PARAMS,
  EMAIL_MEDIUMS,
  EMAIL_QUERY_PARAMS,
  EMAIL_SOURCES,
  EMPTY_UTM_VALUES,
  PAID_MEDIUMS,
  SEARCH_HOST_EXCLUSIONS,
  SEARCH_HOSTS,
  SEARCH_SOURCES,
  SOCIAL_HOSTS,
  SOCIAL_MEDIUMS,
  SOCIAL_SOURCES,
  WEBMAIL_HOSTS,
  type TChannel,
  type TValueList,
} from "./channel-rules.ts";

/** What an event tells us about where the visit came from; every field may be missing or junk. */
export interface TChannelInput {
  referrer?: string | null;
  path?: string | null;
  utm?: {
    source?: string | null;
    medium?: string | null;
    campaign?: string | null;
    term?: string | null;
    content?: string | null;
  } | null;
  siteDomain?: string | null;
}

/** The channel and the rule that decided it (`utm_medium:cpc`, `referrer:google.com`, `none`, …). */
export interface TChannelDecision {
  channel: TChannel;
  rule: string;
}

/** The normalized signals the ordered rules look at. */
interface TSignals {
  medium?: string;
  source?: string;
  /** `source` read as a host when it looks like one (`chatgpt.com`, `l.facebook.com`). */
  sourceHost?: string;
  clickId?: string;
  emailParam?: string;
  /** A usable referrer host that is not the site itself. */
  referrerHost?: string;
  /** Why there is no `referrerHost` although a referrer was sent. */
  referrerNote?: string;
}

type TRule = (signals: TSignals) => string | undefined;

const MAX_RULE_VALUE = 200;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const HOSTNAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/;
/** Second-level labels of country suffixes such as `co.uk`, `com.br`, `ne.jp`. */
const SECOND_LEVEL_LABELS = new Set(["ac", "co", "com", "edu", "gob", "gov", "ne", "net", "or", "org"]);

/** Caps a value so a rule stays short enough to store and read, without splitting a surrogate pair. */
function explain(kind: string, value: string): string {
  if (value.length <= MAX_RULE_VALUE) return `${kind}:${value}`;
  return `${kind}:${value.slice(0, MAX_RULE_VALUE).replace(/[\uD800-\uDBFF]$/, "")}…`;
}

function normalizeValue(raw: string | null | undefined): string | undefined {
  const value = raw?.trim().replace(/\s+/g, " ").toLowerCase();
  return value && !EMPTY_UTM_VALUES.includes(value) ? value : undefined;
}

function inList(value: string, list: TValueList): boolean {
  return list.exact.includes(value) || list.prefixes.some((prefix) => value.startsWith(prefix));
}

/**
 * The lower-cased host of a URL-ish string, without a leading `www.`/`m.`; accepts referrers
 * without a scheme (`google.com/search`) and app referrers (`android-app://com.google.android.gm`).
 * Anything that does not yield a dotted host name is unusable, and never throws.
 */
function parseHost(raw: string): string | undefined {
  const text = raw.trim();
  if (!text) return undefined;
  const candidate = HAS_SCHEME.test(text) ? text : `https://${text.replace(/^\/+/, "")}`;
  let host: string;
  try {
    host = new URL(candidate).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return undefined;
  }
  if (host.length > 253 || !HOSTNAME.test(host)) return undefined;
  return host.replace(/^(?:www\d*|m)\.(?=[^.]+\.)/, "");
}

function isPublicSuffix(labels: readonly string[]): boolean {
  const [first, second] = labels;
  if (labels.length === 1) return /^[a-z]{2,63}$/.test(first ?? "");
  return SECOND_LEVEL_LABELS.has(first ?? "") && /^[a-z]{2}$/.test(second ?? "");
}

/** True when `host` is `pattern` or a subdomain of it; `name.*` accepts any public suffix. */
function matchesHost(host: string, pattern: string): boolean {
  if (!pattern.endsWith(".*")) return host === pattern || host.endsWith(`.${pattern}`);
  const base = pattern.slice(0, -2);
  const labels = host.split(".");
  return [1, 2].some((suffixLength) => {
    if (labels.length <= suffixLength) return false;
    const rest = labels.slice(0, -suffixLength).join(".");
    return (rest === base || rest.endsWith(`.${base}`)) && isPublicSuffix(labels.slice(-suffixLength));
  });
}

function inHosts(host: string | undefined, patterns: readonly string[]): boolean {
  return host !== undefined && patterns.some((pattern) => matchesHost(host, pattern));
}

/** The query parameters of a path or full URL, with lower-cased keys; the first value wins. */
function readQuery(path: string | null | undefined): Map<string, string> {
  const params = new Map<string, string>();
  const beforeFragment = path?.split("#")[0] ?? "";
  const start = beforeFragment.indexOf("?");
  if (start < 0) return params;
  for (const [key, value] of new URLSearchParams(beforeFragment.slice(start + 1))) {
    const name = key.toLowerCase();
    if (value.trim() && !params.has(name)) params.set(name, value);
  }
  return params;
}

function readSignals(input: TChannelInput): TSignals {
  const query = readQuery(input.path);
  const signals: TSignals = {
    medium: normalizeValue(input.utm?.medium) ?? normalizeValue(query.get("utm_medium")),
    source: normalizeValue(input.utm?.source) ?? normalizeValue(query.get("utm_source")),
    clickId: CLICK_ID_PARAMS.find((param) => query.has(param.toLowerCase())),
    emailParam: EMAIL_QUERY_PARAMS.find((param) => query.has(param)),
  };
  if (signals.source?.includes(".")) signals.sourceHost = parseHost(signals.source);

  const referrer = input.referrer?.trim();
  if (!referrer) return signals;
  const host = parseHost(referrer);
  const site = input.siteDomain ? parseHost(input.siteDomain) : undefined;
  if (!host) signals.referrerNote = "invalid_referrer";
  else if (site && (host === site || host.endsWith(`.${site}`))) {
    signals.referrerNote = explain("self_referral", host);
  } else signals.referrerHost = host;
  return signals;
}

/** Tries rules in order and returns the first explanation. */
function firstOf(...rules: readonly TRule[]): TRule {
  return (signals) => {
    for (const rule of rules) {
      const decided = rule(signals);
      if (decided) return decided;
    }
    return undefined;
  };
}

function byMedium(list: TValueList): TRule {
  return ({ medium }) => (medium && inList(medium, list) ? explain("utm_medium", medium) : undefined);
}

/** Matches `utm_source` by name or read as a host, then the referrer host. */
function bySourceOrReferrer(sources: TValueList, hosts: readonly string[], exclusions: readonly string[] = []): TRule {
  const matches = (host: string | undefined) => inHosts(host, hosts) && !inHosts(host, exclusions);
  return ({ source, sourceHost, referrerHost }) => {
    if (source && (inList(source, sources) || matches(sourceHost))) return explain("utm_source", source);
    return referrerHost && matches(referrerHost) ? explain("referrer", referrerHost) : undefined;
  };
}

/** First match wins; the order is a product decision, explained in docs/channels.md. */
const RULES: readonly (readonly [TChannel, TRule])[] = [
  ["paid", firstOf(byMedium(PAID_MEDIUMS), ({ clickId }) => (clickId ? explain("click_id", clickId) : undefined))],
  [
    "email",
    firstOf(byMedium(EMAIL_MEDIUMS), bySourceOrReferrer(EMAIL_SOURCES, WEBMAIL_HOSTS), ({ emailParam }) =>
      emailParam ? explain("query_param", emailParam) : undefined,
    ),
  ],
  ["ai_llm", bySourceOrReferrer(AI_SOURCES, AI_HOSTS)],
  ["organic_search", bySourceOrReferrer(SEARCH_SOURCES, SEARCH_HOSTS, SEARCH_HOST_EXCLUSIONS)],
  ["social", firstOf(byMedium(SOCIAL_MEDIUMS), bySourceOrReferrer(SOCIAL_SOURCES, SOCIAL_HOSTS))],
  [
    "referral",
    firstOf(
      ({ source }) => (source ? explain("utm_source", source) : undefined),
      ({ referrerHost }) => (referrerHost ? explain("referrer", referrerHost) : undefined),
      ({ medium }) => (medium ? explain("utm_medium", medium) : undefined),
    ),
  ],
];

/**
 * Decides the acquisition channel of a visit from its UTM tags, the click ids and `utm_*` in its
 * landing path, and its referrer, and says which rule decided so a surprising channel can be
 * explained. Pure and total: malformed input degrades to `direct`, it never throws.
 */
export function categorizeChannel(input: TChannelInput): TChannelDecision {
  const signals = readSignals(input);
  for (const [channel, rule] of RULES) {
    const decided = rule(signals);
    if (decided) return { channel, rule: decided };
  }
  return { channel: "direct", rule: signals.referrerNote ?? "none" };
}
