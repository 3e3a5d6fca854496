import { createClient } from "redis";
import type { TLogger } from "./logger.ts";

function buildClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  });
}

export type TRedis = ReturnType<typeof buildClient>;

/**
 * A Redis client that fails fast while disconnected (no offline queue) and keeps reconnecting
 * in the background, so a Redis outage turns into quick 503s instead of hanging requests.
 */
export async function connectRedis(url: string, logger: TLogger): Promise<TRedis> {
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
  await client.connect();
  return client;
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
