import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHANNELS, type TChannel } from "../../server/tracking/channel-rules.ts";
import { categorizeChannel, type TChannelInput } from "../../server/tracking/channels.ts";

type TCase = readonly [name: string, input: TChannelInput, channel: TChannel, rule: string];

const site = "example.com";
const long = "s".repeat(1000);

const cases: readonly TCase[] = [
  // UTM only
  ["medium cpc", { utm: { medium: "cpc" } }, "paid", "utm_medium:cpc"],
  ["medium PPC, mixed case", { utm: { medium: "PPC" } }, "paid", "utm_medium:ppc"],
  ["medium paid_social", { utm: { source: "facebook", medium: "paid_social" } }, "paid", "utm_medium:paid_social"],
  ["medium paidsocial", { utm: { medium: "paidsocial" } }, "paid", "utm_medium:paidsocial"],
  ["medium with spaces", { utm: { medium: "  Paid   Search " } }, "paid", "utm_medium:paid search"],
  ["medium display", { utm: { medium: "display" } }, "paid", "utm_medium:display"],
  ["medium retargeting", { utm: { medium: "retargeting" } }, "paid", "utm_medium:retargeting"],
  ["medium cpm", { utm: { medium: "cpm" } }, "paid", "utm_medium:cpm"],
  ["google cpc is paid, not search", { utm: { source: "google", medium: "cpc" } }, "paid", "utm_medium:cpc"],
  ["medium email", { utm: { source: "acme", medium: "email" } }, "email", "utm_medium:email"],
  ["medium E-Mail", { utm: { medium: "E-Mail" } }, "email", "utm_medium:e-mail"],
  ["medium newsletter_weekly", { utm: { medium: "newsletter_weekly" } }, "email", "utm_medium:newsletter_weekly"],
  ["source newsletter", { utm: { source: "newsletter" } }, "email", "utm_source:newsletter"],
  ["source Mailchimp", { utm: { source: "Mailchimp" } }, "email", "utm_source:mailchimp"],
  ["source chatgpt.com", { utm: { source: "chatgpt.com" } }, "ai_llm", "utm_source:chatgpt.com"],
  ["source perplexity", { utm: { source: "perplexity" } }, "ai_llm", "utm_source:perplexity"],
  ["source google organic", { utm: { source: "google", medium: "organic" } }, "organic_search", "utm_source:google"],
  ["source bing", { utm: { source: "Bing" } }, "organic_search", "utm_source:bing"],
  ["medium social", { utm: { medium: "social" } }, "social", "utm_medium:social"],
  ["medium social-media", { utm: { source: "acme", medium: "social-media" } }, "social", "utm_medium:social-media"],
  ["medium sm", { utm: { medium: "SM" } }, "social", "utm_medium:sm"],
  ["source facebook", { utm: { source: "facebook" } }, "social", "utm_source:facebook"],
  ["source as host l.facebook.com", { utm: { source: "l.facebook.com" } }, "social", "utm_source:l.facebook.com"],
  ["unknown source", { utm: { source: "partner-site" } }, "referral", "utm_source:partner-site"],
  ["affiliate medium", { utm: { source: "partner-site", medium: "affiliate" } }, "referral", "utm_source:partner-site"],
  ["unknown medium alone", { utm: { medium: "qr" } }, "referral", "utm_medium:qr"],
  ["GA placeholders", { utm: { source: "(direct)", medium: "(none)" } }, "direct", "none"],
  ["blank utm", { utm: { source: " ", medium: "", campaign: "spring" } }, "direct", "none"],
  ["long source is truncated", { utm: { source: long } }, "referral", `utm_source:${"s".repeat(200)}…`],

  // Query string of the path
  ["gclid", { path: "/pricing?gclid=abc" }, "paid", "click_id:gclid"],
  ["fbclid in a full URL", { path: "https://example.com/?fbclid=x#top" }, "paid", "click_id:fbclid"],
  ["MSCLKID upper case", { path: "/?MSCLKID=1" }, "paid", "click_id:msclkid"],
  ["ScCid", { path: "/signup?ScCid=1" }, "paid", "click_id:ScCid"],
  ["ttclid", { path: "/?ttclid=1" }, "paid", "click_id:ttclid"],
  ["li_fat_id", { path: "/?li_fat_id=1" }, "paid", "click_id:li_fat_id"],
  ["wbraid", { path: "/?a=1&wbraid=x" }, "paid", "click_id:wbraid"],
  ["empty gclid", { path: "/pricing?gclid=" }, "direct", "none"],
  ["gclid in the fragment only", { path: "/pricing#gclid=1" }, "direct", "none"],
  ["query-like fragment", { path: "/pricing#x?gclid=1" }, "direct", "none"],
  ["utm in path", { path: "/p?utm_source=newsletter&utm_medium=email" }, "email", "utm_medium:email"],
  ["utm keys in upper case", { path: "/p?UTM_MEDIUM=CPC" }, "paid", "utm_medium:cpc"],
  ["plus-encoded medium", { path: "/p?utm_medium=Paid+Social" }, "paid", "utm_medium:paid social"],
  ["explicit utm wins over path", { path: "/p?utm_medium=cpc", utm: { medium: "email" } }, "email", "utm_medium:email"],
  [
    "empty explicit utm falls back to path",
    { path: "/p?utm_medium=cpc", utm: { medium: "" } },
    "paid",
    "utm_medium:cpc",
  ],
  ["ChatGPT's own tagging", { path: "/blog?utm_source=chatgpt.com" }, "ai_llm", "utm_source:chatgpt.com"],
  ["mailchimp campaign id", { path: "/?mc_cid=abc" }, "email", "query_param:mc_cid"],
  ["bad percent-encoding", { path: "/?utm_source=%ZZ" }, "referral", "utm_source:%zz"],
  ["garbage path", { path: "::::" }, "direct", "none"],

  // Referrer only
  ["google", { referrer: "https://www.google.com/" }, "organic_search", "referrer:google.com"],
  ["google.co.uk", { referrer: "https://www.google.co.uk/search?q=x" }, "organic_search", "referrer:google.co.uk"],
  ["google.com.br", { referrer: "https://google.com.br/" }, "organic_search", "referrer:google.com.br"],
  ["news.google.com", { referrer: "https://news.google.com/" }, "organic_search", "referrer:news.google.com"],
  ["bing", { referrer: "https://www.bing.com/search?q=x" }, "organic_search", "referrer:bing.com"],
  ["duckduckgo", { referrer: "https://duckduckgo.com/" }, "organic_search", "referrer:duckduckgo.com"],
  ["brave", { referrer: "https://search.brave.com/search" }, "organic_search", "referrer:search.brave.com"],
  ["ecosia", { referrer: "https://www.ecosia.org/" }, "organic_search", "referrer:ecosia.org"],
  [
    "yahoo search subdomain",
    { referrer: "https://uk.search.yahoo.com/" },
    "organic_search",
    "referrer:uk.search.yahoo.com",
  ],
  ["yandex.ru", { referrer: "https://yandex.ru/search" }, "organic_search", "referrer:yandex.ru"],
  ["baidu mobile", { referrer: "https://m.baidu.com/" }, "organic_search", "referrer:baidu.com"],
  ["naver", { referrer: "https://search.naver.com/" }, "organic_search", "referrer:search.naver.com"],
  ["yahoo portal is not search", { referrer: "https://www.yahoo.com/" }, "referral", "referrer:yahoo.com"],
  ["google docs is not search", { referrer: "https://docs.google.com/d/1" }, "referral", "referrer:docs.google.com"],
  ["google.* needs a public suffix", { referrer: "https://google.evil.com/" }, "referral", "referrer:google.evil.com"],
  ["chatgpt", { referrer: "https://chatgpt.com/" }, "ai_llm", "referrer:chatgpt.com"],
  ["chat.openai.com", { referrer: "https://chat.openai.com/c/1" }, "ai_llm", "referrer:chat.openai.com"],
  ["claude", { referrer: "https://claude.ai/chat/1" }, "ai_llm", "referrer:claude.ai"],
  ["perplexity www", { referrer: "https://www.perplexity.ai/" }, "ai_llm", "referrer:perplexity.ai"],
  ["gemini before google.*", { referrer: "https://gemini.google.com/app" }, "ai_llm", "referrer:gemini.google.com"],
  ["copilot", { referrer: "https://copilot.microsoft.com/" }, "ai_llm", "referrer:copilot.microsoft.com"],
  ["gmail before google.*", { referrer: "https://mail.google.com/mail/u/0/" }, "email", "referrer:mail.google.com"],
  ["outlook", { referrer: "https://outlook.live.com/" }, "email", "referrer:outlook.live.com"],
  ["gmail android app", { referrer: "android-app://com.google.android.gm" }, "email", "referrer:com.google.android.gm"],
  ["t.co", { referrer: "https://t.co/abc" }, "social", "referrer:t.co"],
  ["x.com", { referrer: "https://x.com/someone" }, "social", "referrer:x.com"],
  ["box.com is not x.com", { referrer: "https://box.com/" }, "referral", "referrer:box.com"],
  ["linkedin", { referrer: "https://www.linkedin.com/feed/" }, "social", "referrer:linkedin.com"],
  ["lnkd.in", { referrer: "https://lnkd.in/abc" }, "social", "referrer:lnkd.in"],
  ["old.reddit.com", { referrer: "https://old.reddit.com/r/x" }, "social", "referrer:old.reddit.com"],
  ["m.facebook.com", { referrer: "https://m.facebook.com/" }, "social", "referrer:facebook.com"],
  ["l.facebook.com", { referrer: "https://l.facebook.com/l.php?u=x" }, "social", "referrer:l.facebook.com"],
  ["youtu.be", { referrer: "https://youtu.be/x" }, "social", "referrer:youtu.be"],
  ["pinterest.fr", { referrer: "https://www.pinterest.fr/pin/1" }, "social", "referrer:pinterest.fr"],
  ["mastodon instance", { referrer: "https://mastodon.social/@x" }, "social", "referrer:mastodon.social"],
  ["bluesky", { referrer: "https://bsky.app/profile/x" }, "social", "referrer:bsky.app"],
  ["other site", { referrer: "https://blog.example.org/post" }, "referral", "referrer:blog.example.org"],
  ["IP address", { referrer: "http://192.168.0.1:8080/" }, "referral", "referrer:192.168.0.1"],
  [
    "credentials, port, trailing dot",
    { referrer: "https://u:p@www.google.de.:443/" },
    "organic_search",
    "referrer:google.de",
  ],

  // Referrers without a scheme
  ["google without scheme", { referrer: "google.com/search?q=x" }, "organic_search", "referrer:google.com"],
  ["mixed case without scheme", { referrer: "WWW.Reddit.COM/r/x" }, "social", "referrer:reddit.com"],
  ["protocol-relative", { referrer: "//t.co/x" }, "social", "referrer:t.co"],

  // Self-referrals
  ["own domain", { referrer: "https://example.com/page", siteDomain: site }, "direct", "self_referral:example.com"],
  [
    "own subdomain",
    { referrer: "https://app.example.com/", siteDomain: site },
    "direct",
    "self_referral:app.example.com",
  ],
  [
    "www on both sides",
    { referrer: "www.example.com/x", siteDomain: "https://www.Example.com" },
    "direct",
    "self_referral:example.com",
  ],
  [
    "self + utm source",
    { referrer: "https://example.com/", siteDomain: site, utm: { source: "newsletter" } },
    "email",
    "utm_source:newsletter",
  ],
  [
    "self + click id",
    { referrer: "https://example.com/", siteDomain: site, path: "/?gclid=1" },
    "paid",
    "click_id:gclid",
  ],
  [
    "suffix is not a subdomain",
    { referrer: "https://notexample.com/", siteDomain: site },
    "referral",
    "referrer:notexample.com",
  ],
  [
    "site name inside another host",
    { referrer: "https://example.com.evil.org/", siteDomain: site },
    "referral",
    "referrer:example.com.evil.org",
  ],
  [
    "garbage site domain is ignored",
    { referrer: "https://www.google.com/", siteDomain: "::::" },
    "organic_search",
    "referrer:google.com",
  ],

  // Malformed referrers
  ["colons", { referrer: "::::" }, "direct", "invalid_referrer"],
  ["scheme only", { referrer: "http://" }, "direct", "invalid_referrer"],
  ["words", { referrer: "not a url" }, "direct", "invalid_referrer"],
  ["about:blank", { referrer: "about:blank" }, "direct", "invalid_referrer"],
  ["javascript:", { referrer: "javascript:alert(1)" }, "direct", "invalid_referrer"],
  ["very long garbage", { referrer: "a".repeat(10_000) }, "direct", "invalid_referrer"],
  ["very long host", { referrer: `https://${"x".repeat(5_000)}.com/` }, "direct", "invalid_referrer"],
  ["garbage + utm cpc", { referrer: "::::", utm: { medium: "cpc" } }, "paid", "utm_medium:cpc"],
  ["blank referrer", { referrer: "   " }, "direct", "none"],
  ["all null", { referrer: null, path: null, utm: null, siteDomain: null }, "direct", "none"],
  ["empty input", {}, "direct", "none"],

  // UTM and referrer together: channel order decides, then UTM before referrer
  [
    "newsletter beats google referrer",
    { referrer: "https://google.com/", utm: { source: "newsletter" } },
    "email",
    "utm_source:newsletter",
  ],
  [
    "cpc beats gmail referrer",
    { referrer: "https://mail.google.com/", utm: { medium: "cpc" } },
    "paid",
    "utm_medium:cpc",
  ],
  ["gclid beats google referrer", { referrer: "https://www.google.com/", path: "/?gclid=1" }, "paid", "click_id:gclid"],
  [
    "AI referrer beats unknown source",
    { referrer: "https://chatgpt.com/", utm: { source: "partner-site" } },
    "ai_llm",
    "referrer:chatgpt.com",
  ],
  [
    "search referrer beats social medium",
    { referrer: "https://google.com/", utm: { medium: "social" } },
    "organic_search",
    "referrer:google.com",
  ],
  [
    "social source beats other referrer",
    { referrer: "https://blog.example.org/", utm: { source: "facebook" } },
    "social",
    "utm_source:facebook",
  ],
  [
    "utm source before referrer for referral",
    { referrer: "https://blog.example.org/", utm: { source: "partner-site" } },
    "referral",
    "utm_source:partner-site",
  ],
  [
    "referrer before unknown medium",
    { referrer: "https://blog.example.org/", utm: { medium: "qr" } },
    "referral",
    "referrer:blog.example.org",
  ],
];

describe("categorizeChannel", () => {
  it.each(cases)("%s", (_name, input, channel, rule) => {
    expect(categorizeChannel(input)).toEqual({ channel, rule });
  });

  it("never throws and always explains itself with a short rule", () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.string({ minLength: 300, maxLength: 1_000 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.domain(),
    );
    const maybe = fc.option(text, { nil: undefined });
    const utm = fc.record(
      { source: maybe, medium: maybe, campaign: maybe, term: maybe, content: maybe },
      { requiredKeys: [] },
    );
    const input = fc.record(
      { referrer: maybe, path: maybe, utm: fc.option(utm), siteDomain: maybe },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(input, (value) => {
        const { channel, rule } = categorizeChannel(value);
        expect(CHANNELS).toContain(channel);
        expect(rule.length).toBeGreaterThan(0);
        expect(rule.length).toBeLessThanOrEqual(300);
      }),
      { numRuns: 2_000 },
    );
  });
});
