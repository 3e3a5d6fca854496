/**
 * Throughput and latency of recordServerEvents: batches of 50 events from a few concurrent
 * clients, on embedded PGlite and (with BENCH_DATABASE_URL or TEST_DATABASE_URL) on PostgreSQL,
 * through the domain function and over HTTP (REST) against the real app on 127.0.0.1, port 0.
 * Each measurement stops at a request count or a time limit, whichever comes first. A benchmark,
 * not a test: it prints a table and asserts nothing about timing. Run with `npm run bench`.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { hashPassword } from "../../server/auth/passwords.ts";
import { createUser } from "../../server/auth/users.repo.ts";
import { loadConfig } from "../../server/config.ts";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { createApp } from "../../server/http/app.ts";
import { createLogger } from "../../server/infra/logger.ts";
import { createRuntime } from "../../server/runtime.ts";
import { recordServerEvents } from "../../server/tracking/record-server-events.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { createSite, createWorkspace } from "../../server/workspaces/workspaces.repo.ts";
import { withAdmin } from "../support/test-database.ts";

const BATCH_SIZE = 50;
const CLIENTS = 4;
const WARMUP_REQUESTS = 10;
const MAX_REQUESTS = 300;
const MAX_SECONDS = 12;
/** People the events are about: small enough that later batches update and merge earlier profiles. */
const PEOPLE = 4_000;
const PASSWORD = "bench password, loopback only";

type TTarget = { workspaceId: string; siteId: string; userId: string; email: string };
type TSend = (body: unknown) => Promise<number>;
type TRow = { backend: string; path: string; requests: number; events: number; errors: number; seconds: number; latencies: number[] };

/** A deterministic PRNG (mulberry32), so every run and backend sees the same workload. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TYPES = ["pageview", "pageview", "custom", "signup", "identify", "trial_start", "feature_used"];
const REFERRERS = [undefined, undefined, "https://www.google.com/", "https://t.co/x", "https://chatgpt.com/", "https://partner.example.org/post"];

/** One request body: 50 events about random people, some with emails (merges), all with messageIds. */
function makeBatch(siteId: string, tag: string, seq: number, random: () => number) {
  const now = Date.now();
  const events = Array.from({ length: BATCH_SIZE }, (_, i) => {
    const person = Math.floor(random() * PEOPLE);
    const withVisitor = random() < 0.85;
    const withEmail = !withVisitor || random() < 0.3;
    const referrer = REFERRERS[Math.floor(random() * REFERRERS.length)];
    return {
      type: TYPES[Math.floor(random() * TYPES.length)]!,
      ...(withVisitor ? { visitorId: `v_${person.toString(36)}` } : {}),
      ...(withEmail ? { email: `person${person}@bench.example` } : {}),
      path: random() < 0.2 ? "/pricing?utm_source=newsletter&utm_medium=email" : "/app",
      ...(referrer ? { referrer } : {}),
      props: { plan: random() < 0.5 ? "pro" : "free", seats: Math.floor(random() * 20) },
      timestamp: new Date(now - Math.floor(random() * 3_600_000)).toISOString(),
      messageId: `${tag}-${seq}-${i}`,
    };
  });
  return { siteId, sentAt: new Date(now).toISOString(), events };
}

async function seedTarget(db: TDatabase, label: string): Promise<TTarget> {
  const email = `bench-${label}-${randomBytes(4).toString("hex")}@bench.example`;
  const user = await createUser(db.prisma, { email, passwordHash: await hashPassword(PASSWORD) });
  const { workspace, defaultFunnel } = await createWorkspace(db.prisma, { ownerId: user.id, name: `bench ${label}` });
  const site = await createSite(db.prisma, { workspaceId: workspace.id, funnelId: defaultFunnel.id, domain: "bench.example" });
  return { workspaceId: workspace.id, siteId: site.id, userId: user.id, email };
}

/** Warms up, then lets CLIENTS loops send batches until MAX_REQUESTS or MAX_SECONDS. */
async function measure(backend: string, path: string, target: TTarget, send: TSend): Promise<TRow> {
  const tag = randomBytes(4).toString("hex");
  const random = prng(42);
  for (let i = 0; i < WARMUP_REQUESTS; i++) await send(makeBatch(target.siteId, `${tag}-warmup`, i, random));

  const latencies: number[] = [];
  let issued = 0;
  let events = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + MAX_SECONDS * 1000;
  const client = async () => {
    while (issued < MAX_REQUESTS && performance.now() < deadline) {
      const body = makeBatch(target.siteId, tag, issued++, random);
      const t0 = performance.now();
      try {
        const accepted = await send(body);
        latencies.push(performance.now() - t0);
        events += accepted;
      } catch (err) {
        errors += 1;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - start) / 1000;
  if (firstError) console.error(`${backend} ${path}: ${errors} failed requests, first: ${String(firstError)}`);
  return { backend, path, requests: latencies.length, events, errors, seconds, latencies };
}

function benchDomain(db: TDatabase, backend: string, target: TTarget): Promise<TRow> {
  return measure(backend, "domain function", target, async (raw) => {
    const body = ZRecordServerEventsBody.parse(raw);
    const result = await recordServerEvents(db, { workspaceId: target.workspaceId, sessionUserId: target.userId, body });
    return result.accepted;
  });
}

/** The real app (sessions and limiters in memory, rate limit out of the way) on a loopback port. */
async function benchHttp(db: TDatabase, backend: string, target: TTarget): Promise<TRow> {
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", SERVER_EVENTS_RATE_LIMIT: "1000000" });
  const runtime = await createRuntime(config, { db, redis: null, logger: createLogger("silent") });
  const server = createApp({ ...runtime }).listen(0, "127.0.0.1");
  try {
    await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const login = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: target.email, password: PASSWORD }),
    });
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const cookie = login.headers.getSetCookie().map((line) => line.split(";", 1)[0]!).find((pair) => pair.startsWith(`${config.session.cookieName}=`));
    if (!cookie) throw new Error("login set no session cookie");
    const url = `${baseUrl}/api/tracking/server-events?workspaceId=${encodeURIComponent(target.workspaceId)}`;
    return await measure(backend, "HTTP (REST)", target, async (body) => {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
      return (JSON.parse(text) as { accepted: number }).accepted;
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();
  }
}

/** A throw-away database on the PostgreSQL server, migrated on open, dropped on close. */
async function openScratchPostgres(adminUrl: string): Promise<TDatabase> {
  const name = `fse_bench_${randomBytes(6).toString("hex")}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  let db: TDatabase;
  try {
    db = await openDatabase({ databaseUrl: url.toString(), poolMax: 10 });
  } catch (err) {
    await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    throw err;
  }
  const close = db.close;
  db.close = async () => {
    await close();
    await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  };
  return db;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function printTable(rows: TRow[]): void {
  const header = ["backend", "path", "requests", "events", "errors", "seconds", "events/s", "p50 ms", "p95 ms", "p99 ms"];
  const lines = rows.map((r) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    return [
      r.backend, r.path, String(r.requests), String(r.events), String(r.errors), r.seconds.toFixed(1), Math.round(r.events / r.seconds).toLocaleString("en-US"),
      percentile(sorted, 50).toFixed(1), percentile(sorted, 95).toFixed(1), percentile(sorted, 99).toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(`\nrecordServerEvents: batches of ${BATCH_SIZE}, ${CLIENTS} concurrent clients, at most ${MAX_REQUESTS} requests or ${MAX_SECONDS} s each`);
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(format(line));
}

async function main(): Promise<void> {
  const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const backends: { name: string; open: () => Promise<TDatabase> }[] = [
    { name: "PGlite (embedded)", open: () => openDatabase({ dataDir: "memory://" }) },
    ...(postgresUrl ? [{ name: "PostgreSQL", open: () => openScratchPostgres(postgresUrl) }] : []),
  ];
  if (!postgresUrl) console.log("BENCH_DATABASE_URL (or TEST_DATABASE_URL) not set: embedded PGlite only.");
  const rows: TRow[] = [];
  for (const backend of backends) {
    console.log(`${backend.name}: opening...`);
    const db = await backend.open();
    try {
      rows.push(await benchDomain(db, backend.name, await seedTarget(db, "domain")));
      rows.push(await benchHttp(db, backend.name, await seedTarget(db, "http")));
    } finally {
      await db.close();
    }
  }
  printTable(rows);
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
}

await main();
