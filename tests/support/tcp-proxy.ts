import net from "node:net";

/**
 * A TCP proxy in front of a real service (Redis), so a test can make that service fail the two
 * ways production sees: `cut()` drops every connection and refuses new ones (a crash or
 * restart), `freeze()` keeps connections open but stops answering (a partition or a stuck server).
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk) => void (frozen || upstream.write(chunk)));
    upstream.on("data", (chunk) => void (frozen || client.write(chunk)));
    client.on("close", drop).on("error", drop);
    upstream.on("close", drop).on("error", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    /** The service "crashes": open connections are reset and new ones refused. */
    async cut(): Promise<void> {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const [client, upstream] of pairs) {
          client.resetAndDestroy();
          upstream.destroy();
        }
        pairs.clear();
      });
    },
    /** The service is back on the same port (after `cut`), answering again (after `freeze`). */
    async restore(): Promise<void> {
      frozen = false;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    /** The service stops answering without closing anything. */
    freeze(): void {
      frozen = true;
    },
    async close(): Promise<void> {
      frozen = true;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
