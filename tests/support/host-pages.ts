import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The install code's optional stub: calls made before the snippet loads are queued in `funnelfizz.q`. */
export const QUEUE_STUB =
  "window.funnelfizz=window.funnelfizz||function(){(funnelfizz.q=funnelfizz.q||[]).push(arguments)}";

export type THostPage = {
  /** Script run before the tag (after the stub), e.g. queued calls. */
  before?: string;
  /** Extra attributes of the snippet's tag, e.g. `data-respect-dnt`. */
  tagAttributes?: string;
};

export type THostPages = { port: number; url: (host: string, path?: string) => string; close: () => Promise<void> };

/**
 * A customer's website in miniature: one HTTP server answering every path, under any
 * `*.localhost` name, with a page that installs the snippet from `snippetSrc` for `siteId`.
 * Pages are registered by path; an unregistered path gets the plain install.
 */
export async function startHostPages(
  snippetSrc: string,
  siteId: string,
  pages: Record<string, THostPage> = {},
): Promise<THostPages> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const page = pages[path] ?? {};
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(
      "<!doctype html><html><head><title>Shop</title>" +
        `<script>${QUEUE_STUB};${page.before ?? ""}</script>` +
        `<script async src="${snippetSrc}" data-site="${siteId}" ${page.tagAttributes ?? ""}></script>` +
        "</head><body><h1>Shop</h1></body></html>",
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (host, path = "/") => `http://${host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps its connections alive; the pages are done with them.
        server.closeAllConnections();
      }),
  };
}
