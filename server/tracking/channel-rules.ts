/**
 * The data behind channel categorization (docs/channels.md), kept apart from the matching code so a
 * new network or search engine is a one-line change reviewed against the table of test cases.
 *
 * Conventions shared by every list:
 * - UTM values are compared trimmed, whitespace-collapsed and lower-cased.
 * - A host entry matches that host and any subdomain of it (`google.com` matches
 *   `news.google.com`); hosts are compared after dropping a leading `www.`/`m.`.
 * - A host entry ending in `.*` accepts any public suffix (`google.*` matches `google.de`,
 *   `google.co.uk`, `google.com.br`), because these brands run one site per country.
 */

/** The channels of the product (a database enum), in no particular order; the rule order lives in channels.ts. */
export { CHANNELS, type TChannel } from "../db/enums.ts";

/** UTM values matched exactly or by prefix (prefixes cover variants such as `paid_social`). */
export interface TValueList {
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
}

/**
 * Placeholders that mean "no value": GA's own `(none)`/`(direct)` exports and the `null`/`undefined`
 * that buggy link templates produce. Treating them as absent keeps them out of `referral`.
 */
export const EMPTY_UTM_VALUES: readonly string[] = ["(none)", "(not set)", "(direct)", "none", "null", "undefined"];

/** Mediums that mean bought traffic; `paid*` covers paidsocial, paid_search, paid-social, … */
export const PAID_MEDIUMS: TValueList = {
  exact: ["cpm", "cpv", "cpa", "cpi", "display", "banner", "retargeting", "remarketing", "sem"],
  prefixes: ["paid", "cpc", "ppc"],
};

/**
 * Query parameters that ad platforms append only to ad clicks (auto-tagging), so their presence
 * marks a paid visit even when the advertiser forgot UTM tags. Matched case-insensitively;
 * the entry's spelling is what the rule reports.
 */
export const CLICK_ID_PARAMS: readonly string[] = [
  "gclid", // Google Ads
  "gbraid", // Google Ads, iOS app-to-web
  "wbraid", // Google Ads, iOS web-to-app
  "gad_source", // Google Ads, added alongside or instead of gclid
  "dclid", // Google Display & Video 360 / Campaign Manager
  "fbclid", // Meta; also added to some organic shares, counted as paid on purpose (docs/channels.md)
  "msclkid", // Microsoft Advertising
  "ttclid", // TikTok Ads
  "li_fat_id", // LinkedIn Ads
  "twclid", // X (Twitter) Ads
  "epik", // Pinterest Ads
  "rdt_cid", // Reddit Ads
  "ScCid", // Snapchat Ads
  "yclid", // Yandex Direct
];

/** Mediums of email campaigns (GA's email/e-mail/e_mail/e mail, plus newsletters). */
export const EMAIL_MEDIUMS: TValueList = {
  exact: ["e_mail", "e mail", "mail"],
  prefixes: ["email", "e-mail", "newsletter"],
};

/** Sources of email campaigns: the generic names and the email service providers' defaults. */
export const EMAIL_SOURCES: TValueList = {
  exact: [
    "e_mail",
    "e mail",
    "mailchimp",
    "klaviyo",
    "brevo",
    "sendinblue",
    "sendgrid",
    "convertkit",
    "mailerlite",
    "hs_email",
  ],
  prefixes: ["email", "e-mail", "newsletter"],
};

/** Tracking parameters that email service providers add to every link of a campaign. */
export const EMAIL_QUERY_PARAMS: readonly string[] = ["mc_cid", "mc_eid"];

/** Webmail front-ends: a click from an inbox, usually on an untagged link. */
export const WEBMAIL_HOSTS: readonly string[] = [
  "mail.google.com",
  "inbox.google.com",
  "com.google.android.gm", // Gmail app, android-app:// referrer
  "outlook.live.com",
  "outlook.office.com",
  "outlook.office365.com",
  "mail.yahoo.com",
  "mail.aol.com",
  "mail.proton.me",
  "mail.protonmail.com",
  "mail.zoho.com",
  "app.fastmail.com",
  "mail.yandex.*",
  "e.mail.ru",
  "mail.qq.com",
  "mail.163.com",
];

/** Assistants that link to sources in their answers; checked before search, which shares hosts. */
export const AI_HOSTS: readonly string[] = [
  "chatgpt.com",
  "chat.openai.com",
  "claude.ai",
  "perplexity.ai",
  "gemini.google.com",
  "bard.google.com",
  "notebooklm.google.com",
  "aistudio.google.com",
  "copilot.microsoft.com",
  "you.com",
  "phind.com",
  "poe.com",
  "chat.mistral.ai",
  "chat.deepseek.com",
  "grok.com",
  "meta.ai",
  "pi.ai",
  "duck.ai",
  "chat.qwen.ai",
];

/** `utm_source` names of assistants (ChatGPT itself appends `utm_source=chatgpt.com`). */
export const AI_SOURCES: TValueList = {
  exact: ["chatgpt", "openai", "claude", "perplexity", "gemini", "copilot", "phind", "deepseek", "grok"],
  prefixes: [],
};

/** Search engines' result pages. */
export const SEARCH_HOSTS: readonly string[] = [
  "google.*",
  "com.google.android.googlequicksearchbox", // Google app, android-app:// referrer
  "bing.com",
  "duckduckgo.com",
  "search.brave.com",
  "ecosia.org",
  "search.yahoo.*",
  "yandex.*",
  "ya.ru",
  "baidu.com",
  "naver.com",
  "seznam.cz",
  "qwant.com",
  "startpage.com",
  "kagi.com",
  "ask.com",
  "search.aol.com",
  "sogou.com",
  "so.com",
  "daum.net",
  "mojeek.com",
  "presearch.com",
  "swisscows.com",
  "metager.org",
];

/** Google properties that are apps, not result pages: a link clicked there is a referral. */
export const SEARCH_HOST_EXCLUSIONS: readonly string[] = [
  "docs.google.*",
  "drive.google.*",
  "sites.google.*",
  "groups.google.*",
  "calendar.google.*",
  "meet.google.*",
  "classroom.google.*",
  "play.google.*",
  "accounts.google.*",
];

/** `utm_source` names of search engines (e.g. Google Business Profile links tag `google`). */
export const SEARCH_SOURCES: TValueList = {
  exact: [
    "google",
    "bing",
    "duckduckgo",
    "brave",
    "ecosia",
    "yahoo",
    "yandex",
    "baidu",
    "naver",
    "seznam",
    "qwant",
    "startpage",
    "kagi",
  ],
  prefixes: [],
};

/** Social networks, link shorteners of social networks and messaging apps. */
export const SOCIAL_HOSTS: readonly string[] = [
  "x.com",
  "twitter.com",
  "t.co",
  "linkedin.com",
  "lnkd.in",
  "reddit.com",
  "redd.it",
  "facebook.com",
  "fb.com",
  "fb.me",
  "messenger.com",
  "instagram.com",
  "threads.net",
  "threads.com",
  "tiktok.com",
  "youtube.com",
  "youtu.be",
  "pinterest.*",
  "pin.it",
  "bsky.app",
  "mastodon.*",
  "mstdn.*",
  "news.ycombinator.com",
  "producthunt.com",
  "medium.com",
  "tumblr.com",
  "quora.com",
  "snapchat.com",
  "discord.com",
  "discord.gg",
  "whatsapp.com",
  "wa.me",
  "t.me",
  "telegram.org",
  "vk.com",
  "weibo.com",
  "xing.com",
];

/** Mediums that mark organic social posts. */
export const SOCIAL_MEDIUMS: TValueList = {
  exact: ["sm", "sn", "social media", "social-media", "social_media", "socialmedia"],
  prefixes: ["social"],
};

/** `utm_source` names of social networks (hosts such as `facebook.com` match SOCIAL_HOSTS). */
export const SOCIAL_SOURCES: TValueList = {
  exact: [
    "facebook",
    "fb",
    "instagram",
    "ig",
    "twitter",
    "x",
    "linkedin",
    "reddit",
    "tiktok",
    "youtube",
    "yt",
    "pinterest",
    "threads",
    "bluesky",
    "bsky",
    "mastodon",
    "snapchat",
    "whatsapp",
    "telegram",
    "discord",
    "tumblr",
    "quora",
    "hackernews",
  ],
  prefixes: [],
};
