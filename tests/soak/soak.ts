/**
 * The soak: two real server processes on one PostgreSQL database and one Redis, 16 concurrent
 * clients over both for a bounded time, then a checker that proves nothing was lost, doubled or
 * corrupted. `npm run soak -- --seconds 60 [--clients 16] [--report file.json]`.
 *
 * It creates its own database (from SOAK_DATABASE_URL or TEST_DATABASE_URL, an admin URL) and its
 * own Redis key prefix (on SOAK_REDIS_URL or TEST_REDIS_URL), and removes both afterwards.
 * Exits 1 on any violation, 2 when it could not run.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { runChecks, type TCheck } from "./soak-checks.ts";
import { SoakClient, type TSoakPlan } from "./soak-clients.ts";
import {
  createSoakDatabase,
  deleteRedisKeys,
  seedSoakWorkspace,
  startServer,
  stopServer,
  type TServerProcess,
} from "./soak-environment.ts";
import { SoakLedger } from "./soak-ledger.ts";

const DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const USERS = 4;
/** Requests per second per client at most, on average: the count bound next to the time bound. */
const MAX_REQUESTS_PER_CLIENT_SECOND = 50;

type TOptions = { seconds: number; clients: number; report?: string };

function parseOptions(): TOptions {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      clients: { type: "string", default: "16" },
      report: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
    throw new Error("--seconds must be a whole number from 1 to 3600");
  if (!Number.isInteger(clients) || clients < 2 || clients > 64)
    throw new Error("--clients must be a whole number from 2 to 64");
  return { seconds, clients, report: values.report };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const adminUrl = process.env.SOAK_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? DEFAULT_ADMIN_URL;
  const redisUrl = process.env.SOAK_REDIS_URL ?? process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  const runTag = randomBytes(4).toString("hex");
  const redisKeyPrefix = `fse-soak-${runTag}:`;
  const { clone, db } = await createSoakDatabase(adminUrl);
  const servers: TServerProcess[] = [];
  log(`soak ${runTag}: database ${clone.name}, Redis prefix ${redisKeyPrefix}`);
  try {
    const seed = await seedSoakWorkspace(db.prisma, USERS);
    const env = { databaseUrl: clone.url, redisUrl, redisKeyPrefix, sessionSecret: randomBytes(32).toString("hex") };
    const started = await Promise.allSettled([startServer("A", env), startServer("B", env)]);
    for (const result of started) if (result.status === "fulfilled") servers.push(result.value);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    log(
      `instances up: ${servers.map((s) => `${s.name} ${s.baseUrl}`).join(", ")}; ` +
        `${options.clients} clients for ${options.seconds} s`,
    );

    const ledger = new SoakLedger();
    const plan: TSoakPlan = {
      instances: servers.map((s) => ({ name: s.name, baseUrl: s.baseUrl })),
      seed,
      ledger,
      runTag,
      startedAt: 0,
      deadline: 0,
      maxRequests: options.seconds * options.clients * MAX_REQUESTS_PER_CLIENT_SECOND,
    };
    const clients = Array.from(
      { length: options.clients },
      (_, i) => new SoakClient(i, options.clients, plan, seed.users[i % seed.users.length]!),
    );
    await Promise.all(clients.map((c) => c.login()));
    // The clock starts once everyone is logged in (a login costs a deliberately slow password hash).
    const startedAt = (plan.startedAt = Date.now());
    plan.deadline = startedAt + options.seconds * 1000;
    // Interrupted: wind down now, so the checks still run and the clean-up still happens.
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void (plan.deadline = Date.now()));
    await Promise.all(clients.map((c) => c.run()));
    const elapsed = (Date.now() - startedAt) / 1000;

    const stayedUp = servers
      .filter((s) => s.child.exitCode !== null)
      .map((s) => `instance ${s.name} exited (${s.child.exitCode}) during the soak`);
    const stopped = await Promise.all(servers.map(async (s) => ({ server: s, code: await stopServer(s) })));
    const checks: TCheck[] = [
      { name: "instances stayed up", what: "neither server process died during the soak", violations: stayedUp },
      {
        name: "clean shutdown",
        what: "each instance exits 0 on SIGTERM",
        violations: stopped
          .filter((s) => s.code !== 0)
          .map((s) => `instance ${s.server.name} exited ${s.code ?? "only on SIGKILL"}`),
      },
      {
        name: "work done",
        what: "events were recorded, duplicates answered, reads and hostile payloads sent",
        violations: idleViolations(ledger),
      },
      ...(await runChecks(db.prisma, seed.workspaceId, ledger)),
    ];
    const figures = await figuresOf(db.prisma, seed.workspaceId, ledger, elapsed);
    printSummary(figures, checks);
    const failed = checks.filter((c) => c.violations.length > 0);
    if (failed.length > 0) {
      for (const s of servers) log(`--- instance ${s.name} output (tail) ---\n${s.output().slice(-4000)}`);
    }
    if (options.report) await writeReport(options.report, figures, checks);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await Promise.all(servers.map((s) => stopServer(s)));
    await db.close();
    await clone.drop();
    const keys = await deleteRedisKeys(redisUrl, redisKeyPrefix).catch(
      (err: Error) => (log(`Redis clean-up failed: ${err.message}`), 0),
    );
    log(`cleaned up: database ${clone.name} dropped, ${keys} Redis keys deleted`);
  }
}

/** A soak that did nothing proves nothing. */
function idleViolations(ledger: SoakLedger): string[] {
  const done = {
    "recorded events": ledger.recorded,
    duplicates: ledger.duplicates,
    reads: ledger.reads,
    "hostile payloads": ledger.hostile.size,
  };
  return Object.entries(done)
    .filter(([, n]) => n === 0)
    .map(([what]) => `no ${what}`);
}

type TFigures = Record<string, number>;

async function figuresOf(
  prisma: PrismaClient,
  workspaceId: string,
  ledger: SoakLedger,
  elapsed: number,
): Promise<TFigures> {
  const where = { workspaceId };
  const [events, merges, profiles] = await Promise.all([
    prisma.trackingEvent.count({ where }),
    prisma.profileMerge.count({ where }),
    prisma.profile.count({ where: { ...where, mergedIntoId: null } }),
  ]);
  const hostile = [...ledger.hostile.values()].reduce((n, s) => n + s.length, 0);
  return {
    seconds: Math.round(elapsed),
    requests: ledger.requests,
    "requests/s": Math.round(ledger.requests / elapsed),
    writes: ledger.writes,
    reads: ledger.reads,
    "cross-instance requests": ledger.crossInstanceRequests,
    "events recorded": events,
    "duplicates answered": ledger.duplicates,
    "retried batches": ledger.retriedBatches,
    "raced batches": ledger.racedBatches,
    merges,
    "merges refused": ledger.mergesRefused,
    "live profiles": profiles,
    "hostile payloads": hostile,
    "4xx": ledger.countOf((s) => s >= 400 && s < 500),
    "5xx": ledger.countOf((s) => s >= 500),
    "no response": ledger.countOf((s) => s === 0),
  };
}

function printSummary(figures: TFigures, checks: TCheck[]): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  const lines = [
    "",
    "Soak summary",
    ...Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "Checks",
  ];
  for (const check of checks) {
    lines.push(`  ${check.violations.length ? "FAIL" : "pass"}  ${check.name}: ${check.what}`);
    for (const v of check.violations.slice(0, 10)) lines.push(`          ${v}`);
    if (check.violations.length > 10) lines.push(`          … and ${check.violations.length - 10} more`);
  }
  const failed = checks.filter((c) => c.violations.length).length;
  lines.push("", failed ? `SOAK FAILED: ${failed} of ${checks.length} checks` : `soak passed: ${checks.length} checks`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** Same counters as a vitest JSON report, so CI can add the soak (one check) to its final line. */
async function writeReport(file: string, figures: TFigures, checks: TCheck[]): Promise<void> {
  const passed = checks.every((c) => c.violations.length === 0);
  const report = { numPassedTests: passed ? 1 : 0, numFailedTests: passed ? 0 : 1, figures, checks };
  await writeFile(file, JSON.stringify(report, null, 2));
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
