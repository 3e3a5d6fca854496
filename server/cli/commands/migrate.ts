import { z } from "zod";
import { withSqlClient } from "../../db/database.ts";
import { applyMigrations } from "../../db/migrate.ts";
import { defineCommand } from "../command.ts";

export const migrate = defineCommand({
  name: "migrate",
  summary: "Apply pending migrations from prisma/migrations (also done on every server start)",
  usage: "migrate",
  options: {},
  input: z.object({}),
  migratesItself: true,
  async run({ db, log }) {
    const { applied } = await withSqlClient(db, (client) => applyMigrations(client, { log }));
    return {
      text: applied.length
        ? `applied ${applied.length} migration(s): ${applied.join(", ")}`
        : "database is up to date (no pending migrations)",
      json: { mode: db.mode, applied },
    };
  },
});
