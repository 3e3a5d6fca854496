import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
// Inside the repository, so the generated client resolves openapi-fetch from its node_modules.
const dir = path.join(root, ".test-results", `openapi-client-${process.pid}`);

/** Type-checks one client file against the generated types; the diagnostics as text. */
function typeCheck(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))
    .filter(Boolean);
}

const CLIENT = `import createClient from "openapi-fetch";
import type { paths } from "./api.js";

const api = createClient<paths>({ baseUrl: "http://localhost:3000/api" });
export async function recordAndReadBack(workspaceId: string, siteId: string) {
  await api.POST("/auth/login", { body: { email: "demo@example.com", password: "…" } });
  const { data, error } = await api.POST("/tracking/server-events", {
    params: { query: { workspaceId } },
    body: { siteId, events: [{ type: "signup", visitorId: "v_1", messageId: "m-1" }] },
  });
  if (error) return error.data.reason + error.data.issues.map((i) => i.path.join(".")).join(",");
  const status: "recorded" | "duplicate" = data.events[0]!.status;
  const found = await api.GET("/profiles/lookup", { params: { query: { workspaceId, visitorId: "v_1" } } });
  return [status, found.data?.profile?.id ?? null, data.accepted + 1];
}
`;

beforeAll(() => mkdir(dir, { recursive: true }));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("npm run openapi, then a typed client (openapi-typescript + openapi-fetch)", () => {
  it("writes the document without a server or database, and a client generated from it type-checks", async () => {
    const doc = path.join(dir, "openapi.json");
    const { stdout } = await promisify(execFile)("npx", ["tsx", "server/cli/write-openapi.ts", "--out", doc], {
      cwd: root,
      // No DATABASE_URL and no DATA_DIR that exists: nothing is opened.
      env: { ...process.env, DATABASE_URL: "", DATA_DIR: path.join(dir, "never") },
      timeout: 60_000,
    });
    expect(stdout).toBe(`OpenAPI document written to ${doc}\n`);
    const written = JSON.parse(await readFile(doc, "utf8")) as { openapi: string; paths: Record<string, unknown> };
    expect(written.openapi).toMatch(/^3\./);
    expect(Object.keys(written.paths)).toContain("/tracking/server-events");

    await writeFile(path.join(dir, "api.ts"), astToString(await openapiTS(new URL(`file://${doc}`))));
    await writeFile(path.join(dir, "package.json"), '{ "type": "module" }\n');
    await writeFile(path.join(dir, "client.ts"), CLIENT);
    expect(typeCheck(path.join(dir, "client.ts"))).toEqual([]);

    // The types are real: a misspelt answer field does not compile, nor a call without the required workspaceId.
    const misspelt = CLIENT.replace("data.accepted + 1", "data.acceptedCount + 1");
    await writeFile(path.join(dir, "misspelt.ts"), misspelt);
    expect(typeCheck(path.join(dir, "misspelt.ts")).join("\n")).toMatch(/'acceptedCount' does not exist/);
    const unscoped = CLIENT.replace("params: { query: { workspaceId } },", "");
    await writeFile(path.join(dir, "unscoped.ts"), unscoped);
    expect(typeCheck(path.join(dir, "unscoped.ts")).join("\n")).toMatch(/params/);
  }, 120_000);
});
