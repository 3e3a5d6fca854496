import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import { PrismaPGlite } from "pglite-prisma-adapter";

/** A schema engine bound to throw-away in-memory PGlite databases; `dispose` frees them all. */
export interface TScratchSchemaEngine {
  engine: SchemaEngine;
  dispose(): Promise<void>;
}

/** The slice of the WebAssembly global used here; the project's `lib` has no DOM typings. */
interface TWebAssembly {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

let runtimePromise: Promise<typeof SchemaEngine> | undefined;

/**
 * Instantiates the WASM build of Prisma's schema engine by hand, as `@prisma/migrate` does:
 * the package's default entry imports the `.wasm` as an ES module, which Node cannot load.
 */
function loadSchemaEngineClass(): Promise<typeof SchemaEngine> {
  runtimePromise ??= (async () => {
    const runtime = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const require = createRequire(import.meta.url);
    const glue = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await fs.readFile(path.join(path.dirname(glue), "schema_engine_bg.wasm"));
    const wasm = (globalThis as unknown as { WebAssembly: TWebAssembly }).WebAssembly;
    const { instance } = await wasm.instantiate(bytes, { "./schema_engine_bg.js": runtime });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return runtime.SchemaEngine;
  })();
  return runtimePromise;
}

/**
 * pglite-prisma-adapter@0.7.2 does not await `exec` in `executeScript`, so a failing script in
 * the migration history goes unnoticed and the diff comes out wrong. Await it, keeping the
 * adapter's own error mapping.
 */
function awaitScripts(adapter: SqlDriverAdapter, db: PGlite): SqlDriverAdapter {
  const mapError = (adapter as unknown as { onError(e: unknown): never }).onError.bind(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await db.exec(script);
    } catch (error) {
      mapError(error);
    }
  };
  return adapter;
}

/** Opens the engine over an in-memory PGlite; it connects eagerly, even for file-only diffs. */
export async function openScratchSchemaEngine(schemaPath: string, schemaText: string): Promise<TScratchSchemaEngine> {
  const SchemaEngineClass = await loadSchemaEngineClass();
  const databases: PGlite[] = [];
  const openAdapter = async (): Promise<SqlDriverAdapter> => {
    const db = await PGlite.create("memory://");
    databases.push(db);
    return awaitScripts(await new PrismaPGlite(db).connect(), db);
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "pglite-prisma-adapter",
    connect: openAdapter,
    connectToShadowDb: openAdapter,
  };
  const debug = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) process.stderr.write(`${line}\n`);
  };
  const engine = await SchemaEngineClass.new(
    { datamodels: [[schemaPath, schemaText]] },
    debug,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return {
    engine,
    async dispose() {
      engine.free();
      await Promise.all(databases.map((db) => db.close()));
    },
  };
}
