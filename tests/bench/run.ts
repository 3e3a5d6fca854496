/**
 * `npm run bench`: builds the production bundle, seeds a grown history in fresh databases, starts
 * the server as a separate process (`node dist/main.js`, what `npm start` runs) and measures it
 * from this process, side by side with the machine's floor. A benchmark, not a test: it prints
 * tables and writes JSON; it asserts nothing about speed. Flags and rows: docs/performance.md.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createScratchDatabase, openForSetup, prepareTarget, reachable, type TTarget } from "./databases.ts";
import { startServerProcess, rssMb } from "./probes.ts";
import { growthTable, mainTable } from "./report.ts";
import {
  measureDomain,
  measureFloor,
  measureServer,
  ServerSession,
  type TLoadPlan,
  type TPostgresProbe,
  type TRow,
} from "./rows.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ROW_IDS = ["floor", "rest1", "rest4", "rest16", "trpc4", "domain4", "single1", "embedded", "growth"] as const;
const DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS = "redis://127.0.0.1:6379";

const USAGE = `npm run bench -- [options]
  --profiles N            grown history: N profiles (a quarter with emails), 5N events (default 100000)
  --seconds S             measured seconds per row (default 8)
  --only a,b              rows: ${ROW_IDS.join(", ")} (default all)
  --growth-1m             add 1,000,000 profiles to the growth table (seeds 5M events; minutes)
  --embedded-profiles N   history seeded into the embedded database (default 10000)
  --json FILE             where to write the results (default .bench/results-<time>.json)
PostgreSQL: BENCH_DATABASE_URL (an admin URL; scratch databases are created and dropped there),
else TEST_DATABASE_URL, else ${DEFAULT_POSTGRES} when it answers; none: embedded row only.
Redis for the server's sessions and limits: BENCH_REDIS_URL, else TEST_REDIS_URL,
else ${DEFAULT_REDIS} when it answers.`;

type TOptions = {
  profiles: number;
  seconds: number;
  only: Set<string>;
  growth1m: boolean;
  embeddedProfiles: number;
  json: string;
};

function options(): TOptions {
  const { values } = parseArgs({
    options: {
      profiles: { type: "string", default: "100000" },
      seconds: { type: "string", default: "8" },
      only: { type: "string" },
      "growth-1m": { type: "boolean", default: false },
      "embedded-profiles": { type: "string", default: "10000" },
      json: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const count = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${text}`);
    return n;
  };
  const only = new Set(values.only ? values.only.split(",").map((s) => s.trim()) : ROW_IDS);
  for (const id of only)
    if (!(ROW_IDS as readonly string[]).includes(id))
      throw new Error(`--only: unknown row ${id} (rows: ${ROW_IDS.join(", ")})`);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    profiles: count("profiles", values.profiles),
    seconds: count("seconds", values.seconds),
    only,
    growth1m: values["growth-1m"],
    embeddedProfiles: count("embedded-profiles", values["embedded-profiles"]),
    json: values.json ?? path.join(ROOT, ".bench", `results-${stamp}.json`),
  };
}

async function firstReachable(
  candidates: (string | undefined)[],
  fallback: string,
  port: number,
): Promise<string | null> {
  const given = candidates.find((c) => c !== undefined && c !== "");
  if (given) return given;
  return (await reachable(fallback, port)) ? fallback : null;
}

function serverEnv(extra: Record<string, string>, redisUrl: string | null): Record<string, string> {
  return {
    ...extra,
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `fse-bench-${randomBytes(4).toString("hex")}:` } : {}),
    SESSION_SECRET: randomBytes(32).toString("hex"),
    SESSION_TTL_SECONDS: "3600",
    SERVER_EVENTS_RATE_LIMIT: "1000000",
    SEED_DEMO: "false",
    NODE_ENV: "development",
    LOG_LEVEL: "info",
  };
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const count = (n: number) => n.toLocaleString("en-US");
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

type TResults = {
  rows: TRow[];
  growth: { label: string; row: TRow }[];
  idleRssMb: Record<string, number | null>;
  seedSeconds: Record<string, number>;
};

/** Starts the server on a prepared database, lets it settle, notes its idle RSS, and runs `fn` with a session. */
async function withServer<T>(
  env: Record<string, string>,
  target: TTarget,
  label: string,
  results: TResults,
  fn: (s: ServerSession) => Promise<T>,
): Promise<T> {
  const server = await startServerProcess(env);
  let session: ServerSession | undefined;
  try {
    await pause(2000);
    results.idleRssMb[label] = rssMb(server.pid);
    session = await ServerSession.open(server, target, 16);
    return await fn(session);
  } finally {
    session?.close();
    await server.stop();
  }
}

async function prepareScratch(adminUrl: string, label: string, profiles: number, results: TResults) {
  const scratch = await createScratchDatabase(adminUrl, label);
  try {
    const setup = await openForSetup({ databaseUrl: scratch.url });
    try {
      log(`${label}: seeding ${count(profiles)} profiles, ${count(profiles * 5)} events...`);
      const { target, seedSeconds } = await prepareTarget(setup, profiles);
      results.seedSeconds[label] = seedSeconds;
      log(`${label}: seeded in ${seedSeconds.toFixed(1)} s`);
      return { scratch, target };
    } finally {
      await setup.close();
    }
  } catch (err) {
    await scratch.drop();
    throw err;
  }
}

async function runPostgres(
  opts: TOptions,
  adminUrl: string,
  redisUrl: string | null,
  results: TResults,
): Promise<void> {
  const plan: TLoadPlan = { seconds: opts.seconds, warmup: 10 };
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const want = (id: string) => opts.only.has(id);
  try {
    const grownLabel = `grown ${Math.round(opts.profiles / 1000)}k`;
    const { scratch, target } = await prepareScratch(adminUrl, "grown", opts.profiles, results);
    const probe: TPostgresProbe = { admin, database: scratch.name };
    try {
      if (want("floor")) {
        log("floor: raw pg unnest inserts, 4 clients");
        results.rows.push(await measureFloor(scratch.url, { database: grownLabel, clients: 4, plan, postgres: probe }));
      }
      const serverRows = ["rest1", "rest4", "rest16", "trpc4", "single1", "growth"].filter(want);
      if (serverRows.length > 0) {
        await withServer(
          serverEnv({ DATABASE_URL: scratch.url }, redisUrl),
          target,
          "postgres",
          results,
          async (session) => {
            const server = (id: string, what: string, transport: "rest" | "trpc", clients: number, batch = 50) => {
              log(`${id}: ${what}, ${clients} client(s), batches of ${batch}`);
              return measureServer(session, target, {
                id,
                what,
                database: grownLabel,
                transport,
                clients,
                batch,
                plan,
                postgres: probe,
              });
            };
            if (want("rest1")) results.rows.push(await server("rest1", "REST", "rest", 1));
            if (want("rest4") || want("growth")) {
              const row = await server("rest4", "REST", "rest", 4);
              if (want("rest4")) results.rows.push(row);
              if (want("growth")) results.growth.push({ label: grownLabel, row });
            }
            if (want("rest16")) results.rows.push(await server("rest16", "REST", "rest", 16));
            if (want("trpc4")) results.rows.push(await server("trpc4", "tRPC", "trpc", 4));
            if (want("single1")) results.rows.push(await server("single1", "REST, one-event requests", "rest", 1, 1));
          },
        );
      }
      if (want("domain4")) {
        log("domain4: recordServerEvents in-process, 4 clients");
        results.rows.push(
          await measureDomain(scratch.url, target, { database: grownLabel, clients: 4, plan, postgres: probe }),
        );
      }
    } finally {
      await scratch.drop();
    }
    if (want("growth")) {
      results.growth.unshift({
        label: "empty",
        row: await growthRow(adminUrl, redisUrl, "empty", 0, admin, plan, results),
      });
      if (opts.growth1m)
        results.growth.push({
          label: "grown 1000k",
          row: await growthRow(adminUrl, redisUrl, "grown1m", 1_000_000, admin, plan, results),
        });
    }
  } finally {
    await admin.end();
  }
}

/** REST at 4 clients on a database of its own with `profiles` of history. */
async function growthRow(
  adminUrl: string,
  redisUrl: string | null,
  label: string,
  profiles: number,
  admin: pg.Client,
  plan: TLoadPlan,
  results: TResults,
): Promise<TRow> {
  const { scratch, target } = await prepareScratch(adminUrl, label, profiles, results);
  try {
    return await withServer(serverEnv({ DATABASE_URL: scratch.url }, redisUrl), target, label, results, (session) => {
      log(`growth ${label}: REST, 4 clients`);
      return measureServer(session, target, {
        id: "rest4",
        what: "REST",
        database: label,
        transport: "rest",
        clients: 4,
        plan,
        postgres: { admin, database: scratch.name },
      });
    });
  } finally {
    await scratch.drop();
  }
}

/** The embedded backend: PGlite inside the server process, seeded smaller (seeding runs through its one connection). */
async function runEmbedded(opts: TOptions, results: TResults): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "fse-bench-embedded-"));
  try {
    const setup = await openForSetup({ dataDir });
    let target: TTarget;
    try {
      log(`embedded: seeding ${opts.embeddedProfiles.toLocaleString("en-US")} profiles into PGlite...`);
      const prepared = await prepareTarget(setup, opts.embeddedProfiles);
      target = prepared.target;
      results.seedSeconds.embedded = prepared.seedSeconds;
      log(`embedded: seeded in ${prepared.seedSeconds.toFixed(1)} s`);
    } finally {
      await setup.close();
    }
    const label = `embedded ${Math.round(opts.embeddedProfiles / 1000)}k`;
    await withServer(serverEnv({ DATA_DIR: dataDir }, null), target, "embedded", results, async (session) => {
      log("embedded: REST, 4 clients");
      const plan = { seconds: opts.seconds, warmup: 10 };
      results.rows.push(
        await measureServer(session, target, {
          id: "embedded",
          what: "REST, embedded PGlite",
          database: label,
          transport: "rest",
          clients: 4,
          plan,
          postgres: null,
        }),
      );
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function print(opts: TOptions, results: TResults, postgresUrl: string | null, redisUrl: string | null): void {
  const floor = results.rows.find((r) => r.id === "floor");
  console.log(
    `\nnode ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `PostgreSQL: ${postgresUrl ? new URL(postgresUrl).host : "none"}; sessions: ${redisUrl ? "Redis" : "the database"}`,
  );
  console.log(
    `server: node dist/main.js as a separate process; idle RSS MB: ${Object.entries(results.idleRssMb)
      .map(([k, v]) => `${k} ${v?.toFixed(0) ?? "–"}`)
      .join(", ")}`,
  );
  console.log(
    `seeding s: ${Object.entries(results.seedSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(", ")}`,
  );
  console.log(
    `\n${opts.seconds} s per row; CPU and SQL per request; ÷floor = events/s of the row ÷ rows/s of the floor\n`,
  );
  if (results.rows.length > 0) for (const line of mainTable(results.rows, floor)) console.log(line);
  if (results.growth.length > 0) {
    console.log("\nCost growth: REST, 4 clients, batches of 50, the same workload\n");
    for (const line of growthTable(results.growth)) console.log(line);
  }
  for (const row of results.rows.filter((r) => r.firstError))
    console.log(`\n${row.id}: ${row.errors} errors, first: ${row.firstError}`);
}

async function main(): Promise<void> {
  const opts = options();
  log("building the production bundle (npm run build)");
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  const postgresUrl = await firstReachable(
    [process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL],
    DEFAULT_POSTGRES,
    5432,
  );
  const redisUrl = await firstReachable([process.env.BENCH_REDIS_URL, process.env.TEST_REDIS_URL], DEFAULT_REDIS, 6379);
  const results: TResults = { rows: [], growth: [], idleRssMb: {}, seedSeconds: {} };
  const postgresRows = ROW_IDS.filter((id) => id !== "embedded" && opts.only.has(id));
  if (postgresUrl && postgresRows.length > 0) await runPostgres(opts, postgresUrl, redisUrl, results);
  else log(`no PostgreSQL (BENCH_DATABASE_URL unset, ${DEFAULT_POSTGRES} not answering): embedded row only`);
  if (opts.only.has("embedded")) await runEmbedded(opts, results);
  print(opts, results, postgresUrl, redisUrl);
  mkdirSync(path.dirname(opts.json), { recursive: true });
  const json = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    options: { ...opts, only: [...opts.only] },
    ...results,
  };
  writeFileSync(opts.json, JSON.stringify(json, null, 2) + "\n");
  console.log(`\nresults: ${path.relative(process.cwd(), opts.json)}`);
  if (results.rows.some((r) => r.errors > 0) || results.growth.some((g) => g.row.errors > 0)) process.exitCode = 1;
}

await main();
