/**
 * The index built in a worker thread: the same index as on the calling thread, bad input named the
 * same way, and a service that keeps answering from the old index while a big one builds, then from
 * the new one once it is swapped in.
 */
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createSteeringServer } from "./http.js";
import { IndexBuilder } from "./index-builder.js";
import { parseIp } from "./ip.js";
import { clusterHealth } from "./liveness.js";
import { rankClusters } from "./rank.js";
import type { Announcement, ClusterView } from "./snapshot.js";
import { buildSteeringIndex, SteeringInputError } from "./steering-index.js";
import { SteeringStore } from "./store.js";

const builder = new IndexBuilder();
afterAll(() => builder.stop());

const ann = (cidr: string, o: Partial<Announcement> = {}): Announcement => ({
  cidr,
  asPath: [64500],
  med: 0,
  localPref: 100,
  ...o,
});
const cluster = (name: string, prefixes: Announcement[]): ClusterView => ({
  name,
  region: "eu",
  asn: 64500,
  location: { lat: 48, lon: 2 },
  servers: [{ name: `${name}-1`, ipv4: "192.0.2.10" }],
  prefixes,
});

/** `n` distinct /24s (and a /48 each tenth) spread over `clusters` clusters, some announced twice. */
function fleet(n: number, clusters: number): ClusterView[] {
  const prefixes = Array.from({ length: clusters }, (): Announcement[] => []);
  const add = (c: number, a: Announcement) => prefixes[c % clusters]?.push(a);
  for (let k = 0; k < n; k++) {
    const a = (0x0b000000 + k * 256) >>> 0;
    const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`;
    add(k, ann(text, { med: k % 7, localPref: 100 + (k % 3) * 50, asPath: [64500 + (k % 5), 1] }));
    if (k % 3 === 0) add(k + 1, ann(text, { med: k % 11 }));
    if (k % 10 === 0) add(k, ann(`2001:db8:${(k / 10).toString(16)}::/48`));
  }
  return prefixes.map((p, i) => cluster(`c-${i}`, p));
}

describe("IndexBuilder", () => {
  it("builds the index the calling thread builds", async () => {
    const clusters = fleet(5000, 7);
    const [a, b] = [buildSteeringIndex(clusters), await builder.build(clusters)];
    expect(b.clusters.map((c) => c.name)).toEqual(a.clusters.map((c) => c.name));
    expect(b.routes4).toEqual(a.routes4);
    expect(b.routes6).toEqual(a.routes6);
    expect(b.v4.nodes).toEqual(a.v4.nodes);
    const health = new Map(
      clusters.map((c) => [c.name, clusterHealth({ servers: new Map([[`${c.name}-1`, 1e15]]), load: 0.1 })]),
    );
    for (const ip of ["11.0.3.7", "11.0.40.1", "2001:db8:a::1", "12.0.0.1"]) {
      const rank = (index: typeof a) =>
        rankClusters({ index, health, policy: { saturationLoad: 0.9 }, nowMs: 0, address: parseIp(ip) });
      expect(rank(b)).toEqual(rank(a));
    }
  });

  it.each([
    {
      name: "bad CIDR",
      clusters: [cluster("a", [ann("10.0.0.1/8")])],
      want: /clusters\[a\]\.prefixes\[0\]\.cidr: .*bits set/,
    },
    {
      name: "same prefix twice in a cluster",
      clusters: [cluster("b", []), cluster("a", [ann("10.0.0.0/8"), ann("11.0.0.0/8"), ann("10.0.0.0/8")])],
      want: /clusters\[a\]\.prefixes\[2\]\.cidr: "10.0.0.0\/8" is announced twice/,
    },
    { name: "duplicate cluster", clusters: [cluster("a", []), cluster("a", [])], want: /duplicate name "a"/ },
  ])("rejects $name naming the field, as the calling thread does", async ({ clusters, want }) => {
    await expect(builder.build(clusters)).rejects.toThrow(SteeringInputError);
    await expect(builder.build(clusters)).rejects.toThrow(want);
    expect(() => buildSteeringIndex(clusters)).toThrow(want);
  });

  it("answers from the old index while a big one builds, then from the new one", async () => {
    const store = new SteeringStore();
    const old = [cluster("old", [ann("99.0.0.0/8")])];
    store.setClusters(old);
    const big = [...fleet(100_000, 50), cluster("new", [ann("99.0.0.0/9")])];
    const beat = (cs: ClusterView[]) =>
      store.recordHeartbeats(
        new Map(cs.map((c) => [c.name, clusterHealth({ servers: new Map([[`${c.name}-1`, 1e15]]), load: 0.1 })])),
      );
    beat([...old, ...big]);
    const server = createSteeringServer({}, { state: () => store.state, now: Date.now });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/steering?ip=99.0.3.7`;
    const first = async () => ((await (await fetch(url)).json()) as { clusters: { name: string }[] }).clusters[0]?.name;
    try {
      let done = false;
      const swapped = builder.build([...old, ...big]).then((index) => {
        done = true;
        store.setIndex(index);
      });
      const during: (string | undefined)[] = [];
      while (!done) {
        const name = await first();
        // Only answers that arrived before the swap: one in flight across it may be either.
        if (!done) during.push(name);
      }
      await swapped;
      expect(during.length).toBeGreaterThan(0);
      expect(new Set(during)).toEqual(new Set(["old"]));
      expect(await first()).toBe("new");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
