-- AlterEnum
ALTER TYPE "IdentifierKind" ADD VALUE 'STRIPE_CUSTOMER';

-- AlterTable
ALTER TABLE "tracking_sites" ADD COLUMN     "stripe_webhook_secret" VARCHAR(400);
