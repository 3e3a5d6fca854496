import { createClient } from "redis";
import type { TLogger } from "./logger.ts";

function buildClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 1000) },
  });
}

export type TRedis = ReturnType<typeof buildClient>;

/** How long start-up waits for the first connection before it goes on without Redis. */
export const FIRST_CONNECT_WAIT_MS = 3000;

/**
 * A Redis client that fails fast while disconnected (no offline queue) and keeps reconnecting
 * in the background, so a Redis outage turns into quick 503s instead of hanging requests.
 * Redis down at start-up is the same outage: after `waitMs` without an answer this resolves
 * anyway (node-redis's own `connect()` would wait for good) and the client keeps trying.
 */
export async function connectRedis(url: string, logger: TLogger, waitMs = FIRST_CONNECT_WAIT_MS): Promise<TRedis> {
  const client = buildClient(url);
  let lastError = "";
  client.on("error", (err: Error) => {
    // The client emits an error per failed reconnect; log each distinct one once.
    if (err.message !== lastError) logger.warn("redis error", { err: err.message });
    lastError = err.message;
  });
  client.on("ready", () => {
    if (lastError) logger.info("redis reconnected");
    lastError = "";
  });
  let timer: NodeJS.Timeout | undefined;
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
  const ready = await Promise.race([connected, gaveUp]);
  clearTimeout(timer);
  if (!ready) {
    const message = "redis not reachable at REDIS_URL: starting without it; sessions and limits answer 503 until it is";
    logger.warn(message, { redis: hostOf(url) });
  }
  return client;
}

/** host:port of a Redis URL, without credentials, for logs. */
function hostOf(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || 6379}`;
}

/**
 * Closes gracefully (pending replies first) when Redis answers, else drops the connection after
 * `ms`: a `close()` waits for replies a stuck Redis never sends, and shutdown with it.
 */
export async function closeRedis(client: TRedis, ms = 2000): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([client.close().catch(() => undefined), gaveUp]);
  clearTimeout(timer);
  if (client.isOpen) client.destroy();
}
