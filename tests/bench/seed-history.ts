import type pg from "pg";

/** What one grown workspace holds: `profiles` people, five events each, a quarter of them with an email. */
export type TSeedTarget = { workspaceId: string; siteId: string; funnelId: string; userId: string; profiles: number };

/** The ids the workload reuses: seeded person n (1-based) has visitor `sv_n`; n ≤ profiles/4 also `sn@seed.example`. */
export const seededVisitor = (n: number) => `sv_${n}`;
export const seededEmail = (n: number) => `s${n}@seed.example`;
export const EVENTS_PER_PROFILE = 5;

const TABLES = ["profiles", "profile_identifiers", "tracking_events", "profile_events", "profile_funnel_links"];

/**
 * Seeds a grown history with set-based SQL (generate_series), not through the API: per person a
 * profile, a VISITOR identifier (EMAIL for a quarter), four client pageviews and one server signup
 * in the event log and on the timeline, a funnel link at CONSIDERATION, and counters that agree
 * with those rows. Secondary indexes are dropped during the load and rebuilt after it (much faster
 * than maintaining them row by row). Then the tables are vacuumed and analyzed and a checkpoint is
 * taken, so the measurement meets a settled database, as a grown production one is: without this,
 * autovacuum's insert-triggered pass over millions of fresh rows and the flush of the load's dirty
 * pages both ran during the 1M-profile measurement (p99 above a second).
 */
export async function seedHistory(client: pg.ClientBase, t: TSeedTarget): Promise<void> {
  await client.query("SET synchronous_commit = off");
  await client.query("SET maintenance_work_mem = '256MB'");
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [TABLES],
  );
  for (const index of indexes) await client.query(`DROP INDEX "${index.name}"`);
  for (const statement of SEED_STATEMENTS) await client.query(statement.sql, statement.params(t));
  for (const index of indexes) await client.query(index.def);
  await client.query(`VACUUM (ANALYZE) ${TABLES.join(", ")}`);
  await checkpointIfAllowed(client);
}

/**
 * CHECKPOINT needs a superuser or the pg_checkpoint role; the bench's admin URL only needs to
 * create databases. Without the right the figures are still taken, on a less settled database.
 */
async function checkpointIfAllowed(client: pg.ClientBase): Promise<void> {
  try {
    await client.query("CHECKPOINT");
  } catch (err) {
    if ((err as { code?: string }).code !== "42501") throw err;
    console.warn("[bench] no CHECKPOINT after seeding (the bench's role may not run one): figures may be noisier");
  }
}

// Person n was first seen (n % 90) days and a few hours ago; event k (0..4) happened k hours after that.
// `count` is the placeholder of the number of people.
const people = (count: string) => `FROM generate_series(1, ${count}::int) AS n
  CROSS JOIN LATERAL (SELECT now() - make_interval(days => n % 90, hours => 6, secs => n % 3600) AS first_seen) f`;
const events = (count: string) => `${people(count)} CROSS JOIN generate_series(0, 4) AS k
  CROSS JOIN LATERAL (SELECT f.first_seen + make_interval(hours => k) AS at) e`;

const SEED_STATEMENTS: { sql: string; params: (t: TSeedTarget) => unknown[] }[] = [
  {
    sql: `
      INSERT INTO profiles (id, workspace_id, first_seen_at, last_seen_at, event_count, server_event_count,
        pageview_count, created_at)
      SELECT 'prf_seed_' || n, $1, f.first_seen, f.first_seen + interval '4 hours', 5, 1, 4, f.first_seen
      ${people("$2")}`,
    params: (t) => [t.workspaceId, t.profiles],
  },
  {
    sql: `
      INSERT INTO profile_identifiers (workspace_id, kind, value, profile_id, created_at)
      SELECT $1, 'VISITOR'::"IdentifierKind", 'sv_' || n, 'prf_seed_' || n, f.first_seen ${people("$2")}
      UNION ALL
      SELECT $1, 'EMAIL'::"IdentifierKind", 's' || n || '@seed.example', 'prf_seed_' || n,
        f.first_seen + interval '4 hours'
      ${people("$2")} WHERE n <= $2::int / 4`,
    params: (t) => [t.workspaceId, t.profiles],
  },
  {
    sql: `
      INSERT INTO tracking_events (id, workspace_id, site_id, source, message_scope, type, visitor_id, email, user_id,
        profile_id, path, referrer, utm_source, utm_medium, channel, channel_rule, props, message_id, occurred_at,
        received_at)
      SELECT 'evt_seed_' || n || '_' || k, $1, $2,
        CASE WHEN k = 4 THEN 'SERVER' ELSE 'CLIENT' END::"EventSource",
        CASE WHEN k = 4 THEN 'TRUSTED' ELSE 'PUBLIC' END::"MessageScope",
        CASE WHEN k = 4 THEN 'signup' ELSE 'pageview' END,
        'sv_' || n,
        CASE WHEN k = 4 AND n <= $4::int / 4 THEN 's' || n || '@seed.example' END,
        CASE WHEN k = 4 THEN $3 END,
        'prf_seed_' || n,
        CASE WHEN k = 0 AND n % 5 = 3 THEN '/pricing?utm_source=newsletter&utm_medium=email' ELSE '/page/' || k END,
        CASE WHEN k = 0 AND n % 5 = 1 THEN 'https://www.google.com/' WHEN k = 0 AND n % 5 = 2 THEN 'https://t.co/x' END,
        CASE WHEN k = 0 AND n % 5 = 3 THEN 'newsletter' END,
        CASE WHEN k = 0 AND n % 5 = 3 THEN 'email' END,
        (CASE WHEN k = 0 AND n % 5 = 1 THEN 'organic_search' WHEN k = 0 AND n % 5 = 2 THEN 'social'
          WHEN k = 0 AND n % 5 = 3 THEN 'email' ELSE 'direct' END)::"Channel",
        CASE WHEN k = 0 AND n % 5 = 1 THEN 'referrer:google.com' WHEN k = 0 AND n % 5 = 2 THEN 'referrer:t.co'
          WHEN k = 0 AND n % 5 = 3 THEN 'utm_medium:email' ELSE 'none' END,
        CASE WHEN k = 4 THEN jsonb_build_object('plan', CASE WHEN n % 3 = 0 THEN 'pro' ELSE 'free' END) END,
        'seed-' || n || '-' || k, e.at, e.at
      ${events("$4")}`,
    params: (t) => [t.workspaceId, t.siteId, t.userId, t.profiles],
  },
  {
    sql: `
      INSERT INTO profile_events (id, profile_id, workspace_id, funnel_id, tracking_event_id, type, occurred_at,
        created_at)
      SELECT 'pev_seed_' || n || '_' || k, 'prf_seed_' || n, $1, $2, 'evt_seed_' || n || '_' || k,
        CASE WHEN k = 4 THEN 'signup' ELSE 'pageview' END, e.at, e.at
      ${events("$3")}`,
    params: (t) => [t.workspaceId, t.funnelId, t.profiles],
  },
  {
    sql: `
      INSERT INTO profile_funnel_links (profile_id, funnel_id, workspace_id, current_stage, stage_changed_at,
        event_count, first_seen_at, last_seen_at, created_at)
      SELECT 'prf_seed_' || n, $2, $1, 'CONSIDERATION'::"FunnelStage", f.first_seen + interval '4 hours', 5,
        f.first_seen, f.first_seen + interval '4 hours', f.first_seen
      ${people("$3")}`,
    params: (t) => [t.workspaceId, t.funnelId, t.profiles],
  },
];
