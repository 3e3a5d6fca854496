import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import type { TServerEventInput, TRecordOutput } from "../support/wire.ts";

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

/** Writes docs/screenshots/<name>.png (1280×800, the launchBrowser viewport), referenced from the README. */
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
