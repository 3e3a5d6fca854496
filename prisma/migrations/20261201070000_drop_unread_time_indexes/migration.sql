-- Every recorded event inserts one tracking_events row and one profile_events row, and every
-- index on them is one more B-tree insertion per event: index insertion was a fifth of
-- PostgreSQL's CPU on the ingest path (perf, 50-event batches on a grown database). These two
-- (workspace, time) indexes serve no query — the site's event list and the profile timeline have
-- indexes of their own — so they go; a workspace-wide time report brings its index back with it.

-- DropIndex
DROP INDEX "tracking_events_workspace_id_occurred_at_idx";

-- DropIndex
DROP INDEX "profile_events_workspace_id_occurred_at_idx";
