-- Every ingest request updates its profiles' and funnel links' counters and last-seen times.
-- An UPDATE that changes no indexed column and finds room on the row's page is a HOT update:
-- no new index entries, no index pages dirtied. The (workspace_id, last_seen_at) index made
-- every profile update a full one, and no query reads through it; leaving 10 % of each page
-- free gives the next version of a row somewhere to go.

-- DropIndex
DROP INDEX "profiles_workspace_id_last_seen_at_idx";

ALTER TABLE "profiles" SET (fillfactor = 90);
ALTER TABLE "profile_funnel_links" SET (fillfactor = 90);
