-- AlterTable
ALTER TABLE "tracking_events" ADD COLUMN     "recorded_by" VARCHAR(64);

-- Server events recorded so far all came in with a session.
UPDATE "tracking_events" SET "recorded_by" = 'user:' || "user_id" WHERE "source" = 'SERVER' AND "user_id" IS NOT NULL;
