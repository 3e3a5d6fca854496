import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Linux reports CPU times in /proc in clock ticks of 1/100 s on every common build. */
const TICK_MS = 10;

/** The bench server's METRICS_TOKEN: it reads db_statements_total on the public port's /metrics. */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789abcdef";

export type TServerProcess = { pid: number; baseUrl: string; output: () => string; stop(): Promise<void> };

/**
 * Starts the production build (`node dist/main.js`, what `npm start` runs after building) as a
 * separate process on a free loopback port and waits for its banner.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 180_000): Promise<TServerProcess> {
  const start = startScript();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...start.env,
    PORT: "0",
    HOST: "127.0.0.1",
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    ...env,
  };
  for (const key of ["DATABASE_URL", "REDIS_URL", "DATA_DIR"]) if (!(key in env)) delete childEnv[key];
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server only (e.g. `--cpu-prof`), for profiling.
  const extraArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...start.nodeFlags, ...extraArgs, "dist/main.js"], {
    cwd: ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  // Keep only the head (banner, start-up errors): request logs are drained, not stored.
  const keep = (chunk: Buffer) => {
    if (text.length < 20_000) text += chunk.toString();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /API on (http:\/\/\S+)/.exec(text);
    if (match) {
      const port = new URL(match[1]!).port;
      return { pid: child.pid!, baseUrl: `http://127.0.0.1:${port}`, output: () => text, stop: () => stopChild(child) };
    }
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${text}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`server printed no banner within ${timeoutMs} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The node flags of `npm start` (`node <flags> dist/main.js` in package.json), so the bench runs what it runs. */
/** The environment assignments and node flags of `npm start` (`[VAR=value …] node [flags] dist/main.js`). */
function startScript(): { env: Record<string, string>; nodeFlags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const match = /^((?:\w+=\S*\s+)*)node\s+(.*?)\s*dist\/main\.js$/.exec(pkg.scripts.start.trim());
  if (!match) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  const env = Object.fromEntries(
    match[1]!
      .split(/\s+/)
      .filter(Boolean)
      .map((assignment) => assignment.split("=", 2) as [string, string]),
  );
  return { env, nodeFlags: match[2]!.split(/\s+/).filter(Boolean) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Resident memory of a process in MB, from /proc (null once it is gone). */
export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 50 ms while a measurement runs; `stop()` answers the peak in MB. */
export function sampleRss(pid: number): { stop(): number | null } {
  let peak: number | null = rssMb(pid);
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** user + system CPU of a process in ms, or null when /proc does not show it (another machine, gone). */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/**
 * CPU the PostgreSQL backends serving `database` spent between `start()` and `stop()`, read from
 * /proc: only possible when PostgreSQL runs on this machine and /proc shows its processes (as
 * root). Backends that connect during the window count from zero; ones that exit are lost
 * (pools keep theirs, so few are). Answers null when unreadable.
 */
export async function postgresCpu(admin: pg.ClientBase, database: string): Promise<{ stop(): Promise<number | null> }> {
  const backends = async () => {
    const { rows } = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database],
    );
    return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
  };
  const before = await backends();
  return {
    async stop() {
      const after = await backends();
      if (after.size === 0 || [...after.values()].some((v) => v === null)) return null;
      let total = 0;
      for (const [pid, ms] of after) total += ms! - (before.get(pid) ?? 0);
      return total;
    },
  };
}

/** This process's own CPU (user + system) in ms, for the in-process rows. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** CPU of another process in ms (the server's), or null. */
export function processCpuMs(pid: number): number | null {
  return cpuMs(pid);
}
