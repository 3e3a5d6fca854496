import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import express from "express";
import { dashboardContentSecurityPolicy } from "./security-headers.ts";

/** Built assets carry esbuild's content hash in their name (`app-4KX2QH7N.js`): they never change. */
const HASHED_ASSET = /-[A-Z0-9]{8}\.(js|css|map)$/;

/** What `/app` answers when `npm run build:web` has not been run (e.g. `tsx server/main.ts` alone). */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body><main><h1>The dashboard is not built</h1>
<p>Its files are built offline into the web directory (WEB_DIR, default <code>dist/web</code>), which is missing.
Run <code>npm run build:web</code> (or start with <code>npm start</code>, which builds first), then reload.</p>
</main></body></html>
`;

/**
 * The dashboard single-page app at `/app`, served from `<webDir>/app`: content-hashed assets are
 * cached for a year; every other path under `/app/` answers the app's index.html (never cached,
 * so a new build is picked up at the next load), which routes on the client.
 */
export function dashboardRoutes(webDir: string): express.Router {
  const appDir = resolve(webDir, "app");
  const routes = express.Router({ strict: true });
  routes.use(dashboardContentSecurityPolicy());
  routes.get("/", (req, res, next) => (req.originalUrl === "/app" ? res.redirect(301, "/app/") : next()));
  routes.use(
    express.static(appDir, {
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (res, path) =>
        res.setHeader("Cache-Control", HASHED_ASSET.test(path) ? "public, max-age=31536000, immutable" : "no-cache"),
    }),
  );
  routes.get(/.*/, async (req, res, next) => {
    // A missing file (old asset name, typo) is a 404, not the app's page.
    if (/\.[a-z0-9]+$/i.test(req.path)) return next();
    const html = await readFile(resolve(appDir, "index.html"), "utf8").catch(() => undefined);
    res.setHeader("Cache-Control", "no-cache");
    if (html === undefined) return void res.status(503).type("html").send(NOT_BUILT_PAGE);
    res.type("html").send(html);
  });
  return routes;
}
