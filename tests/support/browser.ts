import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { beforeEach } from "vitest";

/** Debian's Chromium (`apt-get install chromium`), or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a headless Chromium on a closed network: without the background-networking ones it
 * keeps trying to reach Google's hosts at every start.
 */
const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  // `*.localhost` names resolve to loopback, so test pages get origins of their own.
  "--host-resolver-rules=MAP *.localhost 127.0.0.1",
];

export type TBrowser = {
  context: BrowserContext;
  /** The last requests, answers, failures and console lines of every page, oldest first, with times. */
  trail: () => string;
  close: () => Promise<void>;
};

/** A step that waits this long has failed: Playwright then names the locator, within the test's 30 s. */
const STEP_TIMEOUT_MS = 15_000;
const TRAIL_LINES = 120;

/**
 * A real headless Chromium with a fresh, empty profile, driven by playwright-core (which never
 * downloads a browser). Fails with the fix in the message when Chromium is not installed.
 * `userAgent` replaces the headless one (`HeadlessChrome/…`), which the collect door counts as a bot.
 */
export async function launchBrowser(options: { userAgent?: string } = {}): Promise<TBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) ` +
        "or set CHROMIUM_PATH to a Chromium binary",
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), "fse-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  return {
    context,
    trail: recordTrail(context),
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Keeps the last TRAIL_LINES network and console events of the context's pages, so a browser test
 * that fails can print what the page asked and what it was answered (see `printTrailOnFailure`).
 */
function recordTrail(context: BrowserContext): () => string {
  const lines: string[] = [];
  const started = Date.now();
  const add = (line: string) => {
    lines.push(`${String(Date.now() - started).padStart(7)} ms  ${line}`);
    if (lines.length > TRAIL_LINES) lines.shift();
  };
  const pathOf = (url: string) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };
  const watch = (page: Page) => {
    page.on("request", (r) => add(`→ ${r.method()} ${pathOf(r.url())}`));
    page.on("requestfinished", (r) => {
      void r.response().then((res) => add(`← ${res?.status() ?? "?"} ${r.method()} ${pathOf(r.url())}`));
    });
    page.on("requestfailed", (r) => add(`✗ ${r.method()} ${pathOf(r.url())}: ${r.failure()?.errorText ?? "failed"}`));
    page.on("framenavigated", (f) => void (f === page.mainFrame() && add(`navigated to ${pathOf(f.url())}`)));
    page.on("console", (m) => add(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => add(`page error: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  return () => lines.join("\n");
}

/** Prints the browser's trail under a failed test of the calling file. */
export function printTrailOnFailure(browser: () => TBrowser | undefined): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      const trail = browser()?.trail();
      if (trail) console.error(`The browser's last requests and messages:\n${trail}`);
    });
  });
}
