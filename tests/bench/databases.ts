import { randomBytes } from "node:crypto";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { hashPassword } from "../../server/auth/passwords.ts";
import { createUser } from "../../server/auth/users.repo.ts";
import { openDatabase, withSqlClient, type TDatabase } from "../../server/db/database.ts";
import { createSite, createWorkspace } from "../../server/workspaces/workspaces.repo.ts";
import { withAdmin } from "../support/test-database.ts";
import { seedHistory, type TSeedTarget } from "./seed-history.ts";

export const BENCH_PASSWORD = "bench password, loopback only";

/** The workspace a measurement writes into, with the login that may write to it. */
export type TTarget = TSeedTarget & { email: string };

/** A scratch database on the PostgreSQL server: its URL, and how to drop it. */
export type TScratch = { name: string; url: string; drop(): Promise<void> };

export async function createScratchDatabase(adminUrl: string, label: string): Promise<TScratch> {
  const name = `fse_bench_${label}_${randomBytes(4).toString("hex")}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}

/**
 * Migrates the database, creates a user, workspace, funnel and site, and seeds `profiles` people
 * of history (none: an empty database). Answers the target and the seconds seeding took.
 */
export async function prepareTarget(
  db: TDatabase,
  profiles: number,
): Promise<{ target: TTarget; seedSeconds: number }> {
  const email = `bench-${randomBytes(4).toString("hex")}@bench.example`;
  const user = await createUser(db.prisma, { email, passwordHash: await hashPassword(BENCH_PASSWORD) });
  const { workspace, defaultFunnel } = await createWorkspace(db.prisma, { ownerId: user.id, name: "bench" });
  const site = await createSite(db.prisma, {
    workspaceId: workspace.id,
    funnelId: defaultFunnel.id,
    domain: "bench.example",
  });
  const target = {
    workspaceId: workspace.id,
    siteId: site.id,
    funnelId: defaultFunnel.id,
    userId: user.id,
    profiles,
    email,
  };
  const t0 = performance.now();
  if (profiles > 0) await withSqlClient(db, (client) => seedHistory(client, target));
  return { target, seedSeconds: (performance.now() - t0) / 1000 };
}

/** Opens (and migrates) a database for preparing a target; closed by the caller. */
export function openForSetup(where: { databaseUrl: string } | { dataDir: string }): Promise<TDatabase> {
  return openDatabase({ ...where, poolMax: 2 });
}

/** True when something accepts TCP connections at the URL's host and port within a second. */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort), timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
