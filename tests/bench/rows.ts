import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase } from "../../server/db/database.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { BENCH_PASSWORD, type TTarget } from "./databases.ts";
import { HttpClient, percentile, runLoad, type TLoadResult, type TSend } from "./load.ts";
import { BENCH_METRICS_TOKEN, ownCpuMs, postgresCpu, processCpuMs, sampleRss, type TServerProcess } from "./probes.ts";
import { BATCH_SIZE, Workload } from "./workload.ts";

export type TRow = {
  id: string;
  what: string;
  database: string;
  clients: number;
  batch: number;
  requests: number;
  events: number;
  accepted: number;
  errors: number;
  seconds: number;
  eventsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  statementsPerRequest: number | null;
  postgresCpuMsPerBatch: number | null;
  nodeCpuMsPerBatch: number | null;
  peakRssMb: number | null;
  firstError?: string;
};

/** Where PostgreSQL's CPU can be read: an admin session and the database's name. */
export type TPostgresProbe = { admin: pg.ClientBase; database: string } | null;
export type TLoadPlan = { seconds: number; warmup: number };

/** The server under test: its process, a logged-in keep-alive client, and its statement counter. */
export class ServerSession {
  private constructor(
    readonly server: TServerProcess,
    readonly http: HttpClient,
    readonly cookie: string,
  ) {}

  static async open(server: TServerProcess, target: TTarget, sockets: number): Promise<ServerSession> {
    const http = new HttpClient(server.baseUrl, sockets);
    const login = await http.request(
      "POST",
      "/api/auth/login",
      JSON.stringify({ email: target.email, password: BENCH_PASSWORD }),
    );
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${login.text}`);
    const cookie = login.setCookie.map((line) => line.split(";", 1)[0]!).find((pair) => pair.startsWith("fse.sid="));
    if (!cookie) throw new Error("login set no session cookie");
    return new ServerSession(server, http, cookie);
  }

  /** The server's own count of SQL statements it sent (db_statements_total on /metrics). */
  async statements(): Promise<number> {
    const answer = await this.http.request("GET", "/metrics", undefined, {
      authorization: `Bearer ${BENCH_METRICS_TOKEN}`,
    });
    const match = /^db_statements_total (\d+)/m.exec(answer.text);
    if (!match) throw new Error("/metrics has no db_statements_total");
    return Number(match[1]);
  }

  close(): void {
    this.http.close();
  }
}

function summarize(
  base: Omit<
    TRow,
    "requests" | "events" | "accepted" | "errors" | "seconds" | "eventsPerSecond" | "p50" | "p95" | "p99"
  >,
  load: TLoadResult,
): TRow {
  const sorted = [...load.latencies].sort((a, b) => a - b);
  return {
    ...base,
    requests: load.requests,
    events: load.events,
    accepted: load.accepted,
    errors: load.errors,
    seconds: load.seconds,
    eventsPerSecond: load.events / load.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    ...(load.firstError ? { firstError: load.firstError } : {}),
  };
}

type TProbeWindow = {
  statements: number;
  postgres: { stop(): Promise<number | null> } | null;
  nodeCpu: number | null;
  rss: { stop(): number | null } | null;
};

/** Runs the load with probes opened after the warm-up and read when it ends. */
async function probed(
  plan: TLoadPlan,
  clients: number,
  send: TSend,
  probes: {
    statements: () => Promise<number> | number;
    postgres: TPostgresProbe;
    nodeCpu: () => number | null;
    rssPid: number | null;
  },
): Promise<{
  load: TLoadResult;
  perBatch: (n: number | null) => number | null;
  statements: number;
  postgresMs: number | null;
  nodeMs: number | null;
  peakRss: number | null;
}> {
  for (let i = 0; i < plan.warmup; i++) await send();
  const window: TProbeWindow = {
    statements: await probes.statements(),
    postgres: probes.postgres ? await postgresCpu(probes.postgres.admin, probes.postgres.database) : null,
    nodeCpu: probes.nodeCpu(),
    rss: probes.rssPid === null ? null : sampleRss(probes.rssPid),
  };
  const load = await runLoad({ clients, seconds: plan.seconds, warmup: 0, send });
  const peakRss = window.rss?.stop() ?? null;
  const nodeEnd = probes.nodeCpu();
  const postgresMs = window.postgres ? await window.postgres.stop() : null;
  const statements = (await probes.statements()) - window.statements;
  const nodeMs = window.nodeCpu === null || nodeEnd === null ? null : nodeEnd - window.nodeCpu;
  const perBatch = (n: number | null) => (n === null || load.requests === 0 ? null : n / load.requests);
  return { load, perBatch, statements, postgresMs, nodeMs, peakRss };
}

/** REST or tRPC batches against the server process, `clients` at once. */
export async function measureServer(
  session: ServerSession,
  target: TTarget,
  opts: {
    id: string;
    what: string;
    database: string;
    transport: "rest" | "trpc";
    clients: number;
    batch?: number;
    plan: TLoadPlan;
    postgres: TPostgresProbe;
  },
): Promise<TRow> {
  const batch = opts.batch ?? BATCH_SIZE;
  // Each row its own people (a seed per row id): a row must not find the merges of the row before it done.
  const workload = new Workload(
    target.siteId,
    Math.max(target.profiles, 1_000),
    `${opts.id}-${randomBytes(3).toString("hex")}`,
    seedOf(opts.id),
  );
  const query = `?workspaceId=${encodeURIComponent(target.workspaceId)}`;
  const send: TSend = async () => {
    const body = workload.next(batch);
    const rest = opts.transport === "rest";
    const answer = rest
      ? await session.http.request("POST", `/api/tracking/server-events${query}`, JSON.stringify(body), {
          cookie: session.cookie,
        })
      : await session.http.request(
          "POST",
          "/api/trpc/tracking.recordServerEvents",
          JSON.stringify({ workspaceId: target.workspaceId, ...body }),
          { cookie: session.cookie },
        );
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    const parsed = JSON.parse(answer.text) as { accepted: number } & { result?: { data: { accepted: number } } };
    return { events: body.events.length, accepted: rest ? parsed.accepted : parsed.result!.data.accepted };
  };
  const pid = session.server.pid;
  const r = await probed(opts.plan, opts.clients, send, {
    statements: () => session.statements(),
    postgres: opts.postgres,
    nodeCpu: () => processCpuMs(pid),
    rssPid: pid,
  });
  // /metrics is read twice per window; it sends no SQL, so the statement count is the requests' own.
  return summarize(
    {
      id: opts.id,
      what: opts.what,
      database: opts.database,
      clients: opts.clients,
      batch,
      statementsPerRequest: r.perBatch(r.statements),
      postgresCpuMsPerBatch: r.perBatch(r.postgresMs),
      nodeCpuMsPerBatch: r.perBatch(r.nodeMs),
      peakRssMb: r.peakRss,
    },
    r.load,
  );
}

/** A PRNG seed from a row id: the same row sees the same mix in every run and on every database. */
function seedOf(id: string): number {
  let hash = 2166136261;
  for (const char of id) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return hash >>> 0;
}

/** The domain function `ingestEvents` in this process on its own pool: no HTTP, sessions or tRPC. */
export async function measureDomain(
  databaseUrl: string,
  target: TTarget,
  opts: { database: string; clients: number; plan: TLoadPlan; postgres: TPostgresProbe },
): Promise<TRow> {
  let statements = 0;
  const db = await openDatabase({ databaseUrl, migrate: false, poolMax: 10, onQuery: () => (statements += 1) });
  try {
    const workload = new Workload(
      target.siteId,
      Math.max(target.profiles, 1_000),
      `domain-${randomBytes(3).toString("hex")}`,
      seedOf("domain"),
    );
    const send: TSend = async () => {
      const raw = workload.next();
      const body = ZRecordServerEventsBody.parse(raw);
      const result = await ingestEvents(db, {
        workspaceId: target.workspaceId,
        actor: { kind: "session", userId: target.userId },
        body,
      });
      return { events: raw.events.length, accepted: result.accepted };
    };
    const r = await probed(opts.plan, opts.clients, send, {
      statements: () => statements,
      postgres: opts.postgres,
      nodeCpu: ownCpuMs,
      rssPid: null,
    });
    return summarize(
      {
        id: `domain${opts.clients}`,
        what: "domain function (in-process)",
        database: opts.database,
        clients: opts.clients,
        batch: BATCH_SIZE,
        statementsPerRequest: r.perBatch(r.statements),
        postgresCpuMsPerBatch: r.perBatch(r.postgresMs),
        // The load generator shares this process, so its CPU counts here too: an upper bound.
        nodeCpuMsPerBatch: r.perBatch(r.nodeMs),
        peakRssMb: null,
      },
      r.load,
    );
  } finally {
    await db.close();
  }
}

/**
 * The machine's floor: raw `pg`, `clients` connections, each request one 50-row
 * `INSERT … SELECT FROM unnest(...)` into `bench_floor`, a copy of tracking_events with its indexes.
 */
export async function measureFloor(
  databaseUrl: string,
  opts: { database: string; clients: number; plan: TLoadPlan; postgres: TPostgresProbe },
): Promise<TRow> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.clients });
  try {
    await pool.query("CREATE TABLE IF NOT EXISTS bench_floor (LIKE tracking_events INCLUDING ALL)");
    let seq = 0;
    const tag = randomBytes(3).toString("hex");
    const send: TSend = async () => {
      const ids = Array.from({ length: BATCH_SIZE }, (_, i) => `evt_floor_${tag}_${seq}_${i}`);
      const n = seq++;
      const now = new Date();
      await pool.query(FLOOR_INSERT, [
        ids,
        ids.map((_, i) => `v_${(n * BATCH_SIZE + i) % 50_000}`),
        ids.map((_, i) => `prf_floor_${(n * BATCH_SIZE + i) % 50_000}`),
        ids.map(() => JSON.stringify({ plan: "pro", seats: 3 })),
        ids.map((id) => `floor-${id}`),
        ids.map(() => now),
      ]);
      return { events: BATCH_SIZE, accepted: BATCH_SIZE };
    };
    const r = await probed(opts.plan, opts.clients, send, {
      statements: () => seq,
      postgres: opts.postgres,
      nodeCpu: ownCpuMs,
      rssPid: null,
    });
    return summarize(
      {
        id: "floor",
        what: "floor: raw pg 50-row unnest INSERT",
        database: opts.database,
        clients: opts.clients,
        batch: BATCH_SIZE,
        statementsPerRequest: 1,
        postgresCpuMsPerBatch: r.perBatch(r.postgresMs),
        nodeCpuMsPerBatch: r.perBatch(r.nodeMs),
        peakRssMb: null,
      },
      r.load,
    );
  } finally {
    await pool.end();
  }
}

const FLOOR_INSERT = `INSERT INTO bench_floor (id, workspace_id, site_id, source, message_scope, type, visitor_id,
    profile_id, path, channel, channel_rule, props, message_id, occurred_at, received_at)
  SELECT id, 'ws_floor', 'site_floor', 'SERVER', 'TRUSTED', 'pageview', visitor_id, profile_id, '/app', 'direct',
    'none', props::jsonb, message_id, at, at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
    AS t(id, visitor_id, profile_id, props, message_id, at)`;
