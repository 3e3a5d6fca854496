import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { WEB_OUT_DIR } from "../../client/build-web.ts";

/** The budget of JavaScript the dashboard's first load may fetch, gzipped. */
const FIRST_LOAD_BUDGET_BYTES = 200 * 1024;

/** Every script index.html loads, and every module those import, as built by globalSetup. */
async function firstLoadScripts(): Promise<string[]> {
  const html = await readFile(join(WEB_OUT_DIR, "app/index.html"), "utf8");
  const queue = [...html.matchAll(/<script[^>]*\bsrc="\/app\/([^"]+)"/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await readFile(join(WEB_OUT_DIR, "app", file), "utf8");
    for (const m of code.matchAll(/\bfrom\s*"\.\/([^"]+\.js)"/g)) queue.push(m[1]!);
  }
  return [...seen];
}

describe("dashboard bundle size", () => {
  it("the first load is at most 200 KB of JavaScript gzipped", async () => {
    const scripts = await firstLoadScripts();
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const file of scripts) gzipped += gzipSync(await readFile(join(WEB_OUT_DIR, "app", file))).length;
    expect(gzipped).toBeGreaterThan(1000);
    expect(gzipped).toBeLessThanOrEqual(FIRST_LOAD_BUDGET_BYTES);
  });
});
