import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { createLogger } from "../../server/infra/logger.ts";
import { closeRedis, connectRedis } from "../../server/infra/redis.ts";
import {
  createTestSite,
  createTestUser,
  createTestWorkspace,
  addMember,
  uniqueEmail,
  TEST_PASSWORD,
} from "../support/fixtures.ts";
import { cloneTemplateDatabase, type TClonedDatabase } from "../support/test-database.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
/** How much server output is kept per instance (shown when something goes wrong). */
const OUTPUT_TAIL_CHARS = 20_000;

export type TSoakSite = { id: string; funnelId: string };
export type TSoakSeed = {
  workspaceId: string;
  users: { id: string; email: string; password: string }[];
  sites: TSoakSite[];
};

/** The soak's own database: cloned from the migrated template, seeded, dropped by `drop()`. */
export async function createSoakDatabase(adminUrl: string): Promise<{ clone: TClonedDatabase; db: TDatabase }> {
  const clone = await cloneTemplateDatabase(adminUrl, "fse_soak");
  try {
    return { clone, db: await openDatabase({ databaseUrl: clone.url, migrate: false, poolMax: 3 }) };
  } catch (err) {
    await clone.drop();
    throw err;
  }
}

/**
 * One workspace with `userCount` members (the owner is ADMIN, the others MANAGER) and two sites,
 * each on its own funnel, so events land on two timelines' worth of funnel links.
 */
export async function seedSoakWorkspace(prisma: PrismaClient, userCount: number): Promise<TSoakSeed> {
  const owner = await createTestUser(prisma, { email: uniqueEmail("soak-owner") });
  const { workspace, defaultFunnel } = await createTestWorkspace(prisma, { ownerId: owner.id, name: "Soak" });
  const users = [owner];
  for (let i = 1; i < userCount; i++) {
    const user = await createTestUser(prisma, { email: uniqueEmail(`soak-${i}`) });
    await addMember(prisma, { workspaceId: workspace.id, userId: user.id, role: "MANAGER" });
    users.push(user);
  }
  const second = await prisma.funnel.create({
    data: { id: `fnl_soak${randomBytes(6).toString("hex")}`, workspaceId: workspace.id, name: "Second" },
  });
  const sites = [
    await createTestSite(prisma, { workspaceId: workspace.id, funnelId: defaultFunnel.id, domain: "shop.example.com" }),
    await createTestSite(prisma, { workspaceId: workspace.id, funnelId: second.id, domain: "docs.example.com" }),
  ];
  return {
    workspaceId: workspace.id,
    users: users.map((u) => ({ id: u.id, email: u.email, password: TEST_PASSWORD })),
    sites: sites.map((s) => ({ id: s.id, funnelId: s.funnelId })),
  };
}

/** Deletes every Redis key under `prefix` (sessions, rate-limit counters of the soak's servers). */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = await connectRedis(redisUrl, createLogger("silent"));
  let deleted = 0;
  try {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) deleted += await redis.del(keys);
    }
  } finally {
    await closeRedis(redis);
  }
  return deleted;
}

export type TServerProcess = {
  name: string;
  baseUrl: string;
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
};

export type TServerEnv = { databaseUrl: string; redisUrl: string; redisKeyPrefix: string; sessionSecret: string };

/**
 * The real entry point (server/main.ts through tsx) as an operator runs it: PostgreSQL, Redis, a
 * shared session secret, a port of its own on loopback. The rate limit is lifted so the soak
 * measures correctness, not the request budget. Resolves once it listens.
 */
export async function startServer(name: string, env: TServerEnv): Promise<TServerProcess> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: env.databaseUrl,
    DATABASE_POOL_MAX: "8",
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.redisKeyPrefix,
    SESSION_SECRET: env.sessionSecret,
    SERVER_EVENTS_RATE_LIMIT: "1000000",
    SEED_DEMO: "false",
    LOG_LEVEL: "warn",
    // Two instances on one machine: each its own free metrics port.
    METRICS_PORT: "0",
  };
  for (const key of ["PUBLIC_URL", "TRUST_PROXY", "ALLOWED_ORIGINS", "TEST_DATABASE_URL", "TEST_REDIS_URL"])
    delete childEnv[key];
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { cwd: ROOT, env: childEnv });
  let text = "";
  const keep = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-OUTPUT_TAIL_CHARS));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const server = { name, baseUrl: "", child, output: () => text, exited };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const port = /Server-side events API on http:\/\/localhost:(\d+)/.exec(text)?.[1];
    if (port) return { ...server, baseUrl: `http://127.0.0.1:${port}` };
    if (child.exitCode !== null)
      throw new Error(`instance ${name} exited (${child.exitCode}) while starting:\n${text}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`instance ${name} did not listen within ${START_TIMEOUT_MS} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after a bound; resolves with the exit code (null when it had to be killed). */
export async function stopServer(server: TServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  server.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS)));
  const code = await Promise.race([server.exited, timedOut]);
  clearTimeout(timer);
  if (code !== "timeout") return code;
  server.child.kill("SIGKILL");
  await server.exited;
  return null;
}
