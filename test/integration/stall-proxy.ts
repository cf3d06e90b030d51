/**
 * A TCP proxy in front of the API server that can stall: while stalled it accepts connections and
 * forwards nothing either way, as a partitioned or wedged API server does to one client (TLS passes
 * through untouched). A socket the client gives up on is closed on both sides, so nothing it sent
 * while stalled reaches the API server later.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export type StallProxy = Readonly<{ port: number; stall(on: boolean): void; close(): Promise<void> }>;

export async function stallProxy(target: { host: string; port: number }): Promise<StallProxy> {
  let stalled = false;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const pipe = (from: Socket, to: Socket) =>
      from.on("data", (b) => {
        if (!stalled) to.write(b); // while stalled, bytes are dropped: the request never arrives
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) s.on("close", close).on("error", close);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    stall(on) {
      stalled = on;
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise((r) => server.close(r));
    },
  };
}
