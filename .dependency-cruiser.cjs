/**
 * The layers of server/ and what may import what (docs/architecture.md), checked by
 * `npm run lint:deps` in CI. From the top: entry points (main.ts, cli/) → the composition root
 * (app.ts, runtime.ts, banner.ts) → the doors (http/: Express routers; trpc/: procedures) → the
 * domain (tracking/, stripe/, mcp/, api-keys/, auth/, workspaces/, seed/) → the foundation
 * (deps.ts, db/, infra/, errors/, config.ts). An arrow may only point down; none may close a circle.
 */
const ENTRY = "^server/(main\\.ts|cli/)";
const ROOT = "^server/(app|runtime|banner)\\.ts$";
const HTTP = "^server/http/";
const TRPC = "^server/trpc/";
const DOMAIN = "^server/(tracking|stripe|mcp|api-keys|auth|workspaces|seed)/";
const FOUNDATION = "^server/(deps\\.ts|config\\.ts|db/|infra/|errors/)";
/** Packages that speak HTTP or tRPC: only the doors and the root may use them. */
const TRANSPORT_PACKAGES =
  "^(express|express-session|connect-redis|helmet|swagger-ui-express|@trpc/server|trpc-to-openapi)($|/)" +
  "|^@modelcontextprotocol/sdk/server/streamableHttp";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import may close a circle.",
      from: {},
      to: { circular: true },
    },
    {
      name: "nothing-imports-entry-points",
      severity: "error",
      comment: "Entry points start processes; nothing imports them.",
      from: { path: "^server/", pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: "root-is-on-top",
      severity: "error",
      comment: "Only entry points import the composition root.",
      from: { path: "^server/", pathNot: [ENTRY, ROOT] },
      to: { path: ROOT },
    },
    {
      name: "trpc-below-http",
      severity: "error",
      comment: "Procedures know nothing of Express: http/ may import trpc/, never the reverse.",
      from: { path: TRPC },
      to: { path: HTTP },
    },
    {
      name: "domain-below-doors",
      severity: "error",
      comment: "The domain is called by the doors and never imports one (http/, trpc/).",
      from: { path: DOMAIN },
      to: { path: [HTTP, TRPC] },
    },
    {
      name: "domain-speaks-no-transport",
      severity: "error",
      comment: "The domain imports no Express, tRPC or HTTP-transport package.",
      from: { path: DOMAIN },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-bundled"], path: TRANSPORT_PACKAGES },
    },
    {
      name: "foundation-at-the-bottom",
      severity: "error",
      comment: "deps.ts, config.ts, db/, infra/ and errors/ import nothing above them.",
      from: { path: FOUNDATION },
      to: { path: [ENTRY, ROOT, HTTP, TRPC, DOMAIN] },
    },
    {
      name: "foundation-speaks-no-express",
      severity: "error",
      comment: "The foundation is shared by every door: no Express in it (error mapping may name tRPC codes).",
      from: { path: FOUNDATION, pathNot: "^server/infra/" },
      to: { path: "^(express|express-session|helmet|swagger-ui-express)($|/)" },
    },
    {
      name: "client-uses-server-types-only",
      severity: "error",
      comment:
        "The browser and the CLIs talk to the server over HTTP: they import its types, and the door-shared " +
        "schemas of tracking/ (to check a file before sending it), nothing else.",
      from: { path: "^client/" },
      to: { path: "^server/", pathNot: "^server/tracking/[^/]+\\.schema\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "Every import resolves.",
      from: { path: "^(server|client)/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(generated|dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
