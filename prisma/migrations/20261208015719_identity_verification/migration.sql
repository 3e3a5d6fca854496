-- AlterTable
ALTER TABLE "tracking_sites" ADD COLUMN     "identity_secret" VARCHAR(400),
ADD COLUMN     "require_identity_verification" BOOLEAN NOT NULL DEFAULT false;
