import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { build, type BuildOptions } from "esbuild";
import { DASHBOARD_BUNDLE } from "./build-dashboard.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Where the built browser assets go; the server serves them from here (`WEB_DIR`, `config.webDir`). */
export const WEB_OUT_DIR = resolve(root, "dist/web");

/**
 * What runs in the browser, built offline from this repository (no CDN, nothing fetched at run
 * time): each entry is one esbuild build into `dist/web`. The snippet is a tiny self-contained
 * IIFE; the dashboard is an ES module app.
 */
export const WEB_BUNDLES: readonly TWebBundle[] = [
  // The tracking snippet, served as /fz.js to customers' pages: old browsers too, no module loader.
  { name: "snippet", entryPoints: { fz: "client/web/snippet/fz.ts" }, format: "iife", target: "es2017" },
  DASHBOARD_BUNDLE,
];

type TWebBundle = BuildOptions & {
  name: string;
  /** Runs after the bundle is built, e.g. to write the HTML page that loads it. */
  after?: (outDir: string) => Promise<void>;
};

/** Builds every browser bundle into `outDir` (default `dist/web`), replacing what was there. */
export async function buildWeb(outDir: string = WEB_OUT_DIR): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await Promise.all(
    WEB_BUNDLES.map(async ({ name: _name, after, ...options }) => {
      await build({ absWorkingDir: root, logLevel: "warning", bundle: true, minify: true, ...options, outdir: outDir });
      await after?.(outDir);
    }),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb(process.argv[2] ? resolve(process.argv[2]) : WEB_OUT_DIR);
}
