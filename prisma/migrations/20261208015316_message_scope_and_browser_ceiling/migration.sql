-- messageId namespaces (docs/security.md): the public browser door's ids can never make a trusted
-- door's event a duplicate. Existing rows: what the snippet sent (CLIENT) is public, the rest trusted.
CREATE TYPE "MessageScope" AS ENUM ('TRUSTED', 'PUBLIC');

ALTER TABLE "tracking_events" ADD COLUMN "message_scope" "MessageScope";
UPDATE "tracking_events" SET "message_scope" = CASE WHEN "source" = 'CLIENT' THEN 'PUBLIC' ELSE 'TRUSTED' END::"MessageScope";
-- No default: every writer says which namespace an event is in.
ALTER TABLE "tracking_events" ALTER COLUMN "message_scope" SET NOT NULL;

DROP INDEX "tracking_events_site_id_message_id_key";
CREATE UNIQUE INDEX "tracking_events_site_id_message_scope_message_id_key" ON "tracking_events"("site_id", "message_scope", "message_id");

-- The browser door's stage ceiling per site: never CUSTOMER (nor any stage added after TRIAL).
ALTER TABLE "tracking_sites" ADD COLUMN "browser_stage_ceiling" "FunnelStage" NOT NULL DEFAULT 'TRIAL';
ALTER TABLE "tracking_sites" ADD CONSTRAINT "tracking_sites_browser_stage_ceiling_check"
  CHECK ("browser_stage_ceiling" IN ('AWARENESS', 'CONSIDERATION', 'TRIAL'));
