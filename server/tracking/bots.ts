/**
 * User agents whose page loads are not people: search and social crawlers, SEO and uptime tools,
 * link previewers, HTTP libraries and headless browsers. Matched case-insensitively as substrings
 * of the User-Agent header; a browser event from one of them is acknowledged and not recorded
 * (docs/collect.md). Keep entries specific enough not to match a real browser's agent.
 */
export const BOT_USER_AGENT_MARKERS: readonly string[] = [
  // Generic words crawlers put in their names (Googlebot, bingbot, AhrefsBot, YandexBot, …).
  "bot",
  "crawler",
  "crawl",
  "spider",
  "slurp",
  "archiver",
  // Link previewers and feed readers.
  "facebookexternalhit",
  "embedly",
  "quora link preview",
  "whatsapp",
  "feedfetcher",
  "mediapartners-google",
  "google-inspectiontool",
  "lighthouse",
  "pagespeed",
  "pingdom",
  "uptimerobot",
  "gtmetrix",
  // Headless and automated browsers.
  "headlesschrome",
  "phantomjs",
  "puppeteer",
  "playwright",
  "selenium",
  // HTTP libraries and command-line clients.
  "curl/",
  "wget/",
  "python-requests",
  "python-urllib",
  "aiohttp",
  "go-http-client",
  "java/",
  "okhttp",
  "axios/",
  "node-fetch",
  "undici",
  "libwww-perl",
  "httpclient",
  "scrapy",
];

const MARKERS = BOT_USER_AGENT_MARKERS.map((m) => m.toLowerCase());

/** Whether a request's User-Agent is a bot's; a missing or blank one counts as a bot (browsers always send one). */
export function isBotUserAgent(userAgent: string | undefined): boolean {
  const agent = userAgent?.trim().toLowerCase();
  if (!agent) return true;
  return MARKERS.some((marker) => agent.includes(marker));
}
