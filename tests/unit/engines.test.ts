import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

type TManifest = { name?: string; version?: string; engines?: { node?: string } };

/** Every package folder under a node_modules (scoped ones included), nested node_modules too. */
function* installedPackages(nodeModules: string): Generator<string> {
  if (!existsSync(nodeModules)) return;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const dir = path.join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of readdirSync(dir, { withFileTypes: true }))
        yield* packageAndNested(path.join(dir, scoped.name));
    } else {
      yield* packageAndNested(dir);
    }
  }
}

function* packageAndNested(dir: string): Generator<string> {
  if (existsSync(path.join(dir, "package.json"))) yield dir;
  yield* installedPackages(path.join(dir, "node_modules"));
}

describe("installed dependencies", () => {
  // The check `npm ci` warns about (EBADENGINE), made a failure: every installed package must
  // declare that it runs on this Node. Same rule as npm: an unparsable range does not match.
  it("all declare engines that include the running Node", () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const dir of installedPackages(path.join(ROOT, "node_modules"))) {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as TManifest;
      const range = manifest.engines?.node;
      if (typeof range !== "string") continue;
      checked += 1;
      if (!semver.satisfies(process.version, range, { includePrerelease: true })) {
        mismatches.push(`${manifest.name}@${manifest.version} requires node ${range}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(mismatches, `running ${process.version}`).toEqual([]);
  });

  it("the project's own engines include the running Node", () => {
    const own = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as TManifest;
    expect(semver.satisfies(process.version, own.engines?.node ?? "")).toBe(true);
  });
});
