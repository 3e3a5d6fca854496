-- CreateEnum
CREATE TYPE "WorkspaceRole" AS ENUM ('ADMIN', 'MANAGER', 'VIEW_ONLY');

-- CreateEnum
CREATE TYPE "EventSource" AS ENUM ('SERVER', 'CLIENT');

-- CreateEnum
CREATE TYPE "IdentifierKind" AS ENUM ('VISITOR', 'EMAIL', 'USER_ID');

-- CreateEnum
CREATE TYPE "FunnelStage" AS ENUM ('AWARENESS', 'CONSIDERATION', 'TRIAL', 'CUSTOMER');

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('direct', 'organic_search', 'social', 'paid', 'email', 'ai_llm', 'referral');

-- CreateTable
CREATE TABLE "users" (
    "id" VARCHAR(40) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "name" VARCHAR(200),
    "password_hash" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspaces" (
    "id" VARCHAR(40) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspace_members" (
    "workspace_id" VARCHAR(40) NOT NULL,
    "user_id" VARCHAR(40) NOT NULL,
    "role" "WorkspaceRole" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspace_members_pkey" PRIMARY KEY ("workspace_id","user_id")
);

-- CreateTable
CREATE TABLE "funnels" (
    "id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "funnels_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_sites" (
    "id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "funnel_id" VARCHAR(40) NOT NULL,
    "domain" VARCHAR(253) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tracking_sites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_events" (
    "id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "site_id" VARCHAR(40) NOT NULL,
    "source" "EventSource" NOT NULL,
    "type" VARCHAR(64) NOT NULL,
    "visitor_id" VARCHAR(128),
    "email" VARCHAR(254),
    "user_id" VARCHAR(40),
    "profile_id" VARCHAR(40) NOT NULL,
    "path" VARCHAR(2048),
    "referrer" VARCHAR(2048),
    "utm_source" VARCHAR(256),
    "utm_medium" VARCHAR(256),
    "utm_campaign" VARCHAR(256),
    "utm_term" VARCHAR(256),
    "utm_content" VARCHAR(256),
    "channel" "Channel" NOT NULL,
    "channel_rule" VARCHAR(300) NOT NULL,
    "props" JSONB,
    "message_id" VARCHAR(128),
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "profiles" (
    "id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "event_count" INTEGER NOT NULL DEFAULT 0,
    "server_event_count" INTEGER NOT NULL DEFAULT 0,
    "pageview_count" INTEGER NOT NULL DEFAULT 0,
    "merged_into_id" VARCHAR(40),
    "merged_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "profiles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "profile_identifiers" (
    "workspace_id" VARCHAR(40) NOT NULL,
    "kind" "IdentifierKind" NOT NULL,
    "value" VARCHAR(254) NOT NULL,
    "profile_id" VARCHAR(40) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "profile_identifiers_pkey" PRIMARY KEY ("workspace_id","kind","value")
);

-- CreateTable
CREATE TABLE "profile_events" (
    "id" VARCHAR(40) NOT NULL,
    "profile_id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "funnel_id" VARCHAR(40) NOT NULL,
    "tracking_event_id" VARCHAR(40),
    "type" VARCHAR(64) NOT NULL,
    "detail" JSONB,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "profile_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "profile_funnel_links" (
    "profile_id" VARCHAR(40) NOT NULL,
    "funnel_id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "current_stage" "FunnelStage" NOT NULL,
    "stage_changed_at" TIMESTAMPTZ(3) NOT NULL,
    "event_count" INTEGER NOT NULL DEFAULT 0,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "profile_funnel_links_pkey" PRIMARY KEY ("profile_id","funnel_id")
);

-- CreateTable
CREATE TABLE "profile_merges" (
    "id" VARCHAR(40) NOT NULL,
    "workspace_id" VARCHAR(40) NOT NULL,
    "survivor_id" VARCHAR(40) NOT NULL,
    "merged_id" VARCHAR(40) NOT NULL,
    "identifier_kind" "IdentifierKind" NOT NULL,
    "identifier_value" VARCHAR(254) NOT NULL,
    "tracking_event_id" VARCHAR(40),
    "merged_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "profile_merges_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members"("user_id");

-- CreateIndex
CREATE INDEX "funnels_workspace_id_idx" ON "funnels"("workspace_id");

-- CreateIndex
CREATE INDEX "tracking_sites_workspace_id_idx" ON "tracking_sites"("workspace_id");

-- CreateIndex
CREATE INDEX "tracking_events_workspace_id_occurred_at_idx" ON "tracking_events"("workspace_id", "occurred_at");

-- CreateIndex
CREATE INDEX "tracking_events_workspace_id_site_id_occurred_at_id_idx" ON "tracking_events"("workspace_id", "site_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "tracking_events_site_id_message_id_key" ON "tracking_events"("site_id", "message_id");

-- CreateIndex
CREATE INDEX "profiles_workspace_id_last_seen_at_idx" ON "profiles"("workspace_id", "last_seen_at");

-- CreateIndex
CREATE INDEX "profiles_merged_into_id_idx" ON "profiles"("merged_into_id");

-- CreateIndex
CREATE INDEX "profile_identifiers_profile_id_idx" ON "profile_identifiers"("profile_id");

-- CreateIndex
CREATE UNIQUE INDEX "profile_events_tracking_event_id_key" ON "profile_events"("tracking_event_id");

-- CreateIndex
CREATE INDEX "profile_events_profile_id_occurred_at_id_idx" ON "profile_events"("profile_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "profile_events_workspace_id_occurred_at_idx" ON "profile_events"("workspace_id", "occurred_at");

-- CreateIndex
CREATE INDEX "profile_funnel_links_workspace_id_funnel_id_current_stage_idx" ON "profile_funnel_links"("workspace_id", "funnel_id", "current_stage");

-- CreateIndex
CREATE INDEX "profile_merges_workspace_id_merged_at_idx" ON "profile_merges"("workspace_id", "merged_at");

-- CreateIndex
CREATE INDEX "profile_merges_survivor_id_idx" ON "profile_merges"("survivor_id");

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "funnels" ADD CONSTRAINT "funnels_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_sites" ADD CONSTRAINT "tracking_sites_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_sites" ADD CONSTRAINT "tracking_sites_funnel_id_fkey" FOREIGN KEY ("funnel_id") REFERENCES "funnels"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
