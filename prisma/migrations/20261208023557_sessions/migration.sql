-- Login sessions for a deployment without Redis (the embedded default), so a restart keeps
-- everyone logged in. With REDIS_URL the sessions live in Redis and this table stays empty.
-- A row is one express-session session; expired rows are swept by the server from time to time.
CREATE TABLE "sessions" (
    "sid" VARCHAR(128) COLLATE "C" NOT NULL,
    "sess" JSONB NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("sid")
);

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");
