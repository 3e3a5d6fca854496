-- Every indexed text column (ids, foreign ids, messageIds, identifier values, API key public
-- ids, login emails) compares byte by byte (COLLATE "C").
--
-- They were created with the database's default collation. On a cluster whose default is a
-- libc locale (Debian's is C.UTF-8), PostgreSQL compares two such strings through strcoll(),
-- and it does so at every step down every btree index on them: each id lookup, each unique
-- check, each index insert. Nothing ever sorted these keys for a person to read, and an id is
-- equal to another exactly when its bytes are, so a linguistic order bought nothing. In "C",
-- a comparison is a memcmp; ULID-based ids sort in time order either way.
--
-- Changing a column's collation keeps the table's rows and rebuilds the indexes on the column
-- (the tables are locked meanwhile): on a large database, run this in a quiet hour.
-- Prisma's schema has no way to state a column's collation, so schema.prisma cannot show it;
-- every new indexed text column gets COLLATE "C" in its migration
-- (tests/integration/key-collation.test.ts holds the rule).

ALTER TABLE "api_keys" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "api_keys" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "api_keys" ALTER COLUMN "public_id" SET DATA TYPE VARCHAR(16) COLLATE "C";
ALTER TABLE "funnels" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "funnels" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_events" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_events" ALTER COLUMN "profile_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_events" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_events" ALTER COLUMN "funnel_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_events" ALTER COLUMN "tracking_event_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_funnel_links" ALTER COLUMN "profile_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_funnel_links" ALTER COLUMN "funnel_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_funnel_links" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_identifiers" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_identifiers" ALTER COLUMN "value" SET DATA TYPE VARCHAR(254) COLLATE "C";
ALTER TABLE "profile_identifiers" ALTER COLUMN "profile_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_merges" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_merges" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_merges" ALTER COLUMN "survivor_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_merges" ALTER COLUMN "merged_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profile_merges" ALTER COLUMN "tracking_event_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profiles" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profiles" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "profiles" ALTER COLUMN "merged_into_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "site_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "visitor_id" SET DATA TYPE VARCHAR(128) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "user_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "profile_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_events" ALTER COLUMN "message_id" SET DATA TYPE VARCHAR(128) COLLATE "C";
ALTER TABLE "tracking_sites" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_sites" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "tracking_sites" ALTER COLUMN "funnel_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "users" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "users" ALTER COLUMN "email" SET DATA TYPE VARCHAR(254) COLLATE "C";
ALTER TABLE "workspace_members" ALTER COLUMN "workspace_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "workspace_members" ALTER COLUMN "user_id" SET DATA TYPE VARCHAR(40) COLLATE "C";
ALTER TABLE "workspaces" ALTER COLUMN "id" SET DATA TYPE VARCHAR(40) COLLATE "C";
