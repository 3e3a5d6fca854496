import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import type { TServerEventInput, TRecordOutput } from "../support/wire.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
/**
 * Test runs write their screenshots into the ignored .test-results/ (so `npm test` leaves the work
 * tree as it found it); `npm run screenshots` refreshes the committed pictures of docs/screenshots.
 */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs/screenshots") : join(ROOT, ".test-results/screenshots");

/** Writes <name>.png (1280×800, the launchBrowser viewport) into SCREENSHOTS. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Records server events over REST, as a customer's backend would, while the page is open. */
export async function recordOverRest(
  app: { baseUrl: string },
  cookie: string,
  scope: { workspaceId: string; siteId: string },
  events: TServerEventInput[],
): Promise<TRecordOutput> {
  const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${scope.workspaceId}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ siteId: scope.siteId, events }),
  });
  if (res.status !== 200) throw new Error(`record answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TRecordOutput;
}

/** Inputs and selects without a label, by id or name: none on any page. */
export function unlabelledFields(page: Page): Promise<string[]> {
  // A string, evaluated in the page: the tests' own types have no DOM.
  return page.evaluate<string[]>(`[...document.querySelectorAll("input, select, textarea")]
    .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
    .map((el) => el.id || el.getAttribute("name") || el.tagName)`);
}

/** Waits for the page's h1 to read `text` (a page change without reload focuses it). */
export async function heading(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole("heading", { level: 1, name: text }).waitFor();
}

/**
 * Visible text whose colour against its effective background (the nearest ancestor with an
 * opaque-ish background) is below WCAG AA's 4.5:1, as `TAG "text" ratio`.
 */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const parse = (c) => {
      const p = /rgba?\\(([^)]+)\\)/.exec(c)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p[3] ?? 1];
    };
    const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const backgroundOf = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) return c;
      }
      return [255, 255, 255, 1];
    };
    const low = [];
    for (const el of document.querySelectorAll("body *")) {
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
      const fg = parse(style.color);
      const bg = backgroundOf(el);
      const shown = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
      const [hi, lo] = [luminance(shown), luminance(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < 4.5) low.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
    }
    return low;
  })()`);
}
