-- CreateTable
CREATE TABLE "collect_refusals" (
    "site_id" VARCHAR(40) COLLATE "C" NOT NULL,
    "reason" VARCHAR(32) COLLATE "C" NOT NULL,
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "collect_refusals_pkey" PRIMARY KEY ("site_id","reason","minute")
);

-- AddForeignKey
ALTER TABLE "collect_refusals" ADD CONSTRAINT "collect_refusals_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "tracking_sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
