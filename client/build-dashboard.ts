import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildOptions } from "esbuild";

/** The dashboard's built files live under `<webDir>/app`, served at `/app` (server/http/dashboard.ts). */
export const DASHBOARD_DIR = "app";

/** The one built script and stylesheet, named by their content hash (`app-4KX2QH7N.js`). */
async function builtAssets(outDir: string): Promise<{ script: string; style?: string }> {
  const files = await readdir(join(outDir, DASHBOARD_DIR));
  const script = files.find((f) => /^app-[A-Z0-9]+\.js$/.test(f));
  const style = files.find((f) => /^app-[A-Z0-9]+\.css$/.test(f));
  if (!script) throw new Error(`dashboard build: no app-*.js in ${join(outDir, DASHBOARD_DIR)}`);
  return { script, style };
}

/** The page every `/app/*` path answers: it loads the hashed assets by absolute path. */
async function writeIndexHtml(outDir: string): Promise<void> {
  const { script, style } = await builtAssets(outDir);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Funnel dashboard</title>
<link rel="icon" href="data:,">
${style ? `<link rel="stylesheet" href="/app/${style}">\n` : ""}<script type="module" src="/app/${script}"></script>
</head>
<body>
<noscript>The dashboard needs JavaScript.</noscript>
<div id="root"></div>
</body>
</html>
`;
  await writeFile(join(outDir, DASHBOARD_DIR, "index.html"), html);
}

/** The dashboard as an ES module bundle (Preact, automatic JSX) plus its index.html. */
export const DASHBOARD_BUNDLE = {
  name: "dashboard",
  entryPoints: { [`${DASHBOARD_DIR}/app`]: "client/web/dashboard/main.tsx" },
  entryNames: "[dir]/[name]-[hash]",
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  after: writeIndexHtml,
} satisfies BuildOptions & { name: string; after: (outDir: string) => Promise<void> };
