import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A loopback port nobody listens on right now. */
export async function sparePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A `redis-server` of the test's own on a spare loopback port, which the test may kill and start
 * again (the shared Redis is never touched). Every write is fsynced to an append-only file, so
 * sessions survive a kill -9 as they would on a persistent production Redis.
 */
export async function ownRedisServer(port?: number) {
  const chosen = port ?? (await sparePort());
  const dir = await mkdtemp(path.join(tmpdir(), "fse-redis-"));
  let child: ChildProcess | undefined;
  const server = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    /** Starts it (again) and resolves once it accepts connections. */
    async start(): Promise<void> {
      const persistence = ["--save", "", "--appendonly", "yes", "--appendfsync", "always"];
      const args = ["--port", String(chosen), "--bind", "127.0.0.1", "--dir", dir, ...persistence];
      const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
      child = proc;
      let output = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server not ready within 10 s:\n${output}`)), 10_000);
        proc.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("Ready to accept connections")) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
      });
    },
    /** kill -9: open connections are reset, new ones refused, until `start()`. */
    async kill(): Promise<void> {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGKILL");
      await exited;
    },
    async close(): Promise<void> {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}
