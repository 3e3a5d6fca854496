import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, withSqlClient, type TDatabase } from "../../server/db/database.ts";
import { applyMigrations } from "../../server/db/migrate.ts";

const MIGRATIONS = path.resolve(import.meta.dirname, "../../prisma/migrations");
const SPLIT = "20261208015316_message_scope_and_browser_ceiling";

let db: TDatabase;
let before: string;
beforeAll(async () => {
  // The history up to the split, in a folder of its own.
  before = await fs.mkdtemp(path.join(os.tmpdir(), "fse-migrations-"));
  for (const name of (await fs.readdir(MIGRATIONS)).filter((n) => n < SPLIT && /^\d/.test(n)))
    await fs.cp(path.join(MIGRATIONS, name), path.join(before, name), { recursive: true });
  db = await openDatabase({ dataDir: "memory://", migrate: false });
}, 60_000);
afterAll(async () => {
  await db?.close();
  await fs.rm(before, { recursive: true, force: true });
});

describe("the message_scope migration", () => {
  it("puts existing CLIENT rows in the public namespace and SERVER rows in the trusted one", async () => {
    await withSqlClient(db, async (c) => {
      await applyMigrations(c, { dir: before });
      await c.query(`
        INSERT INTO workspaces (id, name) VALUES ('ws_m', 'm');
        INSERT INTO funnels (id, workspace_id, name) VALUES ('fnl_m', 'ws_m', 'f');
        INSERT INTO tracking_sites (id, workspace_id, funnel_id, domain, name)
          VALUES ('site_m', 'ws_m', 'fnl_m', 'm.test', 'm');
        INSERT INTO profiles (id, workspace_id, first_seen_at, last_seen_at) VALUES ('prf_m', 'ws_m', now(), now());
        INSERT INTO tracking_events (id, workspace_id, site_id, source, type, profile_id, channel, channel_rule,
          message_id, occurred_at, received_at)
        VALUES ('evt_c', 'ws_m', 'site_m', 'CLIENT', 'pageview', 'prf_m', 'direct', 'none', 'order-1', now(), now()),
          ('evt_s', 'ws_m', 'site_m', 'SERVER', 'signup', 'prf_m', 'direct', 'none', 'order-2', now(), now());`);
      await applyMigrations(c);
      const { rows } = await c.query("SELECT id, message_scope::text AS scope FROM tracking_events ORDER BY id");
      expect(rows).toEqual([
        { id: "evt_c", scope: "PUBLIC" },
        { id: "evt_s", scope: "TRUSTED" },
      ]);
      const site = await c.query("SELECT browser_stage_ceiling::text AS ceiling FROM tracking_sites");
      expect(site.rows).toEqual([{ ceiling: "TRIAL" }]);
      // The browser's order-2 no longer collides with the backend's.
      await c.query(`INSERT INTO tracking_events (id, workspace_id, site_id, source, message_scope, type, profile_id,
          channel, channel_rule, message_id, occurred_at, received_at)
        VALUES ('evt_c2', 'ws_m', 'site_m', 'CLIENT', 'PUBLIC', 'pageview', 'prf_m', 'direct', 'none', 'order-2',
          now(), now())`);
      await expect(
        c.query(`INSERT INTO tracking_events (id, workspace_id, site_id, source, message_scope, type, profile_id,
            channel, channel_rule, message_id, occurred_at, received_at)
          VALUES ('evt_s2', 'ws_m', 'site_m', 'SERVER', 'TRUSTED', 'x', 'prf_m', 'direct', 'none', 'order-2',
            now(), now())`),
      ).rejects.toThrow(/tracking_events_site_id_message_scope_message_id_key/);
    });
  });
});
