import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../server/http/openapi.ts";
import { appRouter } from "../../server/trpc/router.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * The typed-client examples of docs/api.md (openapi-fetch) and the README (tRPC), taken from the
 * documents as written, run in a Node process of their own against a live app: only the address,
 * the ids, the login and the relative import paths are replaced.
 */
const root = path.resolve(import.meta.dirname, "../..");
// Inside the repository, so the examples resolve openapi-fetch and tsx from its node_modules.
const dir = path.join(root, ".test-results", `typed-client-examples-${process.pid}`);
let app: TTestApp;
let seed: TSeededWorkspace;

beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "package.json"), '{ "type": "module" }\n');
  const doc = buildOpenApiDocument(appRouter, {
    baseUrl: "/api",
    cookieName: app.config.session.cookieName,
    serverEventsLimit: app.config.limits.serverEvents,
  });
  const docFile = path.join(dir, "openapi.json");
  await writeFile(docFile, JSON.stringify(doc));
  await writeFile(path.join(dir, "api.d.ts"), astToString(await openapiTS(new URL(`file://${docFile}`))));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The first ```ts block of `file` that contains `marker`. */
async function codeBlock(file: string, marker: string): Promise<string> {
  const text = await readFile(path.join(root, file), "utf8");
  const block = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((b) => b.includes(marker));
  if (!block) throw new Error(`${file} has no ts example containing ${marker}`);
  return block;
}

/** The example with this app's address and ids, written next to the generated types, run with tsx. */
async function run(name: string, source: string): Promise<string> {
  const code = source
    .replaceAll("http://localhost:3000", app.baseUrl)
    .replaceAll("ws_123", seed.workspace.id)
    .replaceAll("site_456", seed.site.id)
    .replaceAll("demo@example.com", seed.owner.email)
    .replaceAll('"./client/', `"${path.join(root, "client")}/`);
  const file = path.join(dir, `${name}.ts`);
  await writeFile(file, code);
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", FSE_PASSWORD: seed.owner.password },
    timeout: 60_000,
  });
  return stdout.trim();
}

describe("the typed-client examples run as written in Node", () => {
  it("docs/api.md's openapi-fetch example records once, then answers duplicate", async () => {
    const example = await codeBlock("docs/api.md", 'from "openapi-fetch"');
    expect(await run("openapi-fetch", example)).toBe("recorded");
    expect(await run("openapi-fetch-again", example)).toBe("duplicate");
  }, 120_000);

  it("the README's tRPC example records the event and logs out", async () => {
    const example = await codeBlock("README.md", "createDashboardClient");
    const out = await run("trpc", `${example}\nconsole.log(JSON.stringify(result));\n`);
    const result = JSON.parse(out) as { accepted: number; events: { status: string; profileId: string }[] };
    expect(result.events[0]?.status).toMatch(/^(recorded|duplicate)$/);
    const profile = await app.db.prisma.profile.findUnique({ where: { id: result.events[0]?.profileId ?? "" } });
    expect(profile?.workspaceId).toBe(seed.workspace.id);
  }, 120_000);
});
