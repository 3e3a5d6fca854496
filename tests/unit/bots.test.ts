import { describe, expect, it } from "vitest";
import { isBotUserAgent } from "../../server/tracking/bots.ts";

describe("isBotUserAgent", () => {
  it.each([
    ["Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"],
    ["bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"],
    ["AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"],
    ["Yahoo Slurp", "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)"],
    ["Facebook previews", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"],
    ["headless Chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0 Safari/537.36"],
    ["Lighthouse", "Mozilla/5.0 (Linux; Android 11) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse"],
    ["curl", "curl/8.5.0"],
    ["python-requests", "python-requests/2.31.0"],
    ["Go", "Go-http-client/1.1"],
    ["no agent", undefined],
    ["a blank agent", "   "],
  ])("%s is a bot", (_name, agent) => {
    expect(isBotUserAgent(agent)).toBe(true);
  });

  it.each([
    [
      "Chrome on Linux",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ],
    ["Firefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"],
    [
      "Safari on iPhone",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Safari/604.1",
    ],
    [
      "Edge",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ],
    [
      "Samsung Internet",
      "Mozilla/5.0 (Linux; Android 14; SM-S918B) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    ],
  ])("%s is a person's browser", (_name, agent) => {
    expect(isBotUserAgent(agent)).toBe(false);
  });
});
