import { Router } from "express";
import type { TDatabase } from "../db/database.ts";
import type { TRedis } from "../infra/redis.ts";

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS).unref()),
  ]);
}

async function check(fn: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(fn());
    return "ok";
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Liveness (the process answers) and readiness (its database and Redis answer, not shutting down). */
export function healthRoutes(deps: { db: TDatabase; redis?: TRedis; isShuttingDown: () => boolean }): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  r.get("/readyz", async (_req, res) => {
    const checks = {
      database: await check(() => deps.db.ping()),
      redis: deps.redis ? await check(() => deps.redis!.ping()) : "not configured (in-memory sessions and limits)",
    };
    const ready = !deps.isShuttingDown() && checks.database === "ok" && !checks.redis.startsWith("error");
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ready" : deps.isShuttingDown() ? "shutting down" : "not ready", checks });
  });
  return r;
}
