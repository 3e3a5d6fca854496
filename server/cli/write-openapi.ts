import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../config.ts";
import { buildOpenApiDocument } from "../http/openapi.ts";
import { appRouter } from "../trpc/router.ts";

/**
 * `npm run openapi [-- --out FILE]`: writes the OpenAPI document the server serves at
 * /api/openapi.json, built from the router and the configuration alone (no server, no database).
 */
function main(argv: string[]): number {
  const outAt = argv.indexOf("--out");
  if (argv.some((a, i) => a !== "--out" && i !== outAt + 1)) {
    process.stderr.write("usage: npm run openapi [-- --out FILE]   (default openapi.json)\n");
    return 2;
  }
  const file = resolve(outAt === -1 ? "openapi.json" : (argv[outAt + 1] ?? ""));
  const config = loadConfig();
  const doc = buildOpenApiDocument(appRouter, {
    baseUrl: `${config.publicUrl ?? ""}/api`,
    cookieName: config.session.cookieName,
    serverEventsLimit: config.limits.serverEvents,
  });
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  process.stdout.write(`OpenAPI document written to ${file}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
