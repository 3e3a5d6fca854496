// The live pages' timing, in a module of its own (no DOM) so the browser tests can read it.

/** How often the newest page is fetched again. */
export const POLL_MS = 2000;
/**
 * A poll not answered within this is abandoned (its requests aborted) and the next one scheduled:
 * a request the network or a proxy never answers would otherwise stop the page's polling for good,
 * and with it the notice that the session has ended.
 */
export const POLL_DEADLINE_MS = 10_000;
