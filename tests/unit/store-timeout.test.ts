import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { STORE_TIMEOUT_MS, withinStoreTimeout } from "../../server/infra/rate-limit.ts";

/**
 * The store deadline must not report a store as silent when its answer arrived in time but the
 * event loop was busy (a large body being parsed): after such a stall the due timer runs before
 * the pending socket read. A loopback socket stands in for Redis.
 */
describe("withinStoreTimeout after an event-loop stall", () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((close) => close()));

  async function connectedPair(): Promise<{ client: net.Socket; server: net.Socket }> {
    const listener = net.createServer();
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    const accepted = once(listener, "connection") as Promise<[net.Socket]>;
    const client = net.connect((listener.address() as net.AddressInfo).port, "127.0.0.1");
    const [[server]] = await Promise.all([accepted, once(client, "connect")]);
    closers.push(() => {
      client.destroy();
      server.destroy();
      listener.close();
    });
    return { client, server };
  }

  function blockEventLoop(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until);
  }

  it("resolves with an answer that arrived before the deadline while the loop was blocked", async () => {
    const { client, server } = await connectedPair();
    const answer = withinStoreTimeout(once(client, "data").then(([chunk]) => String(chunk)));
    server.write("PONG");
    blockEventLoop(STORE_TIMEOUT_MS + 300);
    await expect(answer).resolves.toBe("PONG");
  });

  it("still rejects when no answer came", async () => {
    const { client } = await connectedPair();
    const answer = withinStoreTimeout(once(client, "data"));
    blockEventLoop(STORE_TIMEOUT_MS + 300);
    await expect(answer).rejects.toThrow(`no answer within ${STORE_TIMEOUT_MS} ms`);
  });
});
