import path from "node:path";
import { defineConfig } from "prisma/config";

// The CLI downloads its native schema engine unless this names an existing file; `generate`
// never runs it, so a stub keeps installs offline. A real binary set in the environment wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(import.meta.dirname, "prisma", "schema-engine-stub.sh");

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // `generate` needs no live database; the fallback keeps it working without DATABASE_URL.
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/unused" },
});
