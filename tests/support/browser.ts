import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

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

export type TBrowser = { context: BrowserContext; close: () => Promise<void> };

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
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
