import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

export type TServerProcess = {
  child: ChildProcessWithoutNullStreams;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the base URL once it logs that it listens. */
  listening(ms?: number): Promise<string>;
  /** The metrics listener's base URL, from its log line (once `listening` resolved). */
  metricsUrl(): string | undefined;
  /** SIGKILL if still running (test clean-up). */
  kill(): void;
};

/**
 * The real entry point (`server/main.ts` under tsx) as a child process, on a free loopback port,
 * with `env` on top of a clean environment (no DATABASE_URL, REDIS_URL… unless given); its
 * metrics listener on a free loopback port too (METRICS_PORT=0), so processes never collide.
 */
export function startServerProcess(env: Record<string, string>): TServerProcess {
  const base: NodeJS.ProcessEnv = { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info" };
  base.METRICS_PORT = "0";
  base.NODE_ENV = "development";
  for (const key of [
    "DATABASE_URL",
    "REDIS_URL",
    "SESSION_SECRET",
    "SEED_DEMO",
    "PUBLIC_URL",
    "DATA_DIR",
    "METRICS_TOKEN",
  ]) {
    delete base[key];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { cwd: ROOT, env: { ...base, ...env } });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    async listening(ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        // The "listening" log line, whichever order its fields come in.
        const line = /^\{.*"msg":"listening".*$/m.exec(text)?.[0];
        const port = line && /"port":(\d+)/.exec(line)?.[1];
        if (port) return `http://127.0.0.1:${port}`;
        if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${text}`);
        if (Date.now() > deadline) throw new Error(`not listening within ${ms} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    metricsUrl() {
      const line = /^\{.*"msg":"metrics listening".*$/m.exec(text)?.[0];
      const port = line && /"port":(\d+)/.exec(line)?.[1];
      return port ? `http://127.0.0.1:${port}` : undefined;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
