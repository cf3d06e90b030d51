import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIp } from "./ip.js";
import { clusterHealth } from "./liveness.js";
import { type HealthPolicy, rankClusters } from "./rank.js";
import type { Announcement, ClusterHealth, ClusterView, LatLon } from "./snapshot.js";
import { buildSteeringIndex, SteeringInputError } from "./steering-index.js";

const PARIS: LatLon = { lat: 48.86, lon: 2.35 };
const LYON: LatLon = { lat: 45.76, lon: 4.84 };
const TOKYO: LatLon = { lat: 35.68, lon: 139.69 };
const T0 = Date.UTC(2026, 10, 1);
const policy: HealthPolicy = { saturationLoad: 0.9 };
/** A heartbeat seen at T0 keeps its cluster live until T0 + LEASE (its servers' lease duration). */
const LEASE = 10_000;

/** A cluster's health: one server whose heartbeat expires at `expiresAtMs`. */
const hb = (expiresAtMs: number, load: number, saturated?: boolean): ClusterHealth =>
  clusterHealth({ servers: new Map([["s-1", expiresAtMs]]), load, saturated });

function ann(cidr: string, o: Partial<Announcement> = {}): Announcement {
  return { cidr, asPath: [64500], med: 0, localPref: 100, ...o };
}

function cluster(name: string, prefixes: Announcement[], o: Partial<ClusterView> = {}): ClusterView {
  return {
    name,
    region: "eu-west",
    asn: 64500,
    location: PARIS,
    servers: [{ name: `${name}-1`, ipv4: "192.0.2.10" }],
    prefixes,
    ...o,
  };
}

type Case = Readonly<{
  name: string;
  clusters: ClusterView[];
  ip: string;
  want: string[];
  load?: Record<string, number>;
  /** null: no geo source and no region default, so distance cannot decide. */
  client?: LatLon | null;
}>;

function rank(
  clusters: ClusterView[],
  ip: string,
  o: { load?: Record<string, number>; client?: LatLon | null; now?: number } = {},
) {
  const health = new Map<string, ClusterHealth>(clusters.map((c) => [c.name, hb(T0 + LEASE, o.load?.[c.name] ?? 0.1)]));
  return rankClusters({
    index: buildSteeringIndex(clusters),
    health,
    policy,
    nowMs: o.now ?? T0,
    address: parseIp(ip),
    clientLocation: o.client === null ? undefined : (o.client ?? PARIS),
  });
}

const names = (r: ReturnType<typeof rank>) => r.clusters.map((c) => c.cluster.name);

describe("decision order: each rule decides", () => {
  const cases: Case[] = [
    {
      name: "longest match beats local preference",
      clusters: [cluster("a", [ann("10.0.0.0/8", { localPref: 500 })]), cluster("b", [ann("10.1.0.0/16")])],
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "higher local preference beats a shorter AS path",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [64500] })]),
        cluster("b", [ann("10.1.0.0/16", { localPref: 200, asPath: [64500, 1, 2] })]),
      ],
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "shorter AS path beats MED",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [64500, 1], med: 0 })]),
        cluster("b", [ann("10.1.0.0/16", { asPath: [64500], med: 90 })]),
      ],
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "lower MED from the same neighbour AS beats distance",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [64501, 7], med: 50 })], { location: PARIS }),
        cluster("b", [ann("10.1.0.0/16", { asPath: [64501, 8], med: 10 })], { location: TOKYO }),
      ],
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "MED is not compared across neighbour ASes: distance decides",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [64501], med: 50 })], { location: PARIS }),
        cluster("b", [ann("10.1.0.0/16", { asPath: [64502], med: 10 })], { location: TOKYO }),
      ],
      ip: "10.1.2.3",
      want: ["a", "b"],
    },
    {
      name: "an empty AS path's neighbour is the site's AS: same AS, MED decides",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [], med: 50 })], { asn: 64501, location: PARIS }),
        cluster("b", [ann("10.1.0.0/16", { asPath: [], med: 10 })], { asn: 64501, location: TOKYO }),
      ],
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "an empty AS path's neighbour is the site's AS: other AS, distance decides",
      clusters: [
        cluster("a", [ann("10.1.0.0/16", { asPath: [], med: 50 })], { asn: 64501, location: PARIS }),
        cluster("b", [ann("10.1.0.0/16", { asPath: [], med: 10 })], { asn: 64502, location: TOKYO }),
      ],
      ip: "10.1.2.3",
      want: ["a", "b"],
    },
    {
      name: "shorter distance beats lower load",
      clusters: [
        cluster("a", [ann("10.1.0.0/16")], { location: TOKYO }),
        cluster("b", [ann("10.1.0.0/16")], { location: LYON }),
      ],
      load: { a: 0.0, b: 0.8 },
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "lower load decides at equal distance",
      clusters: [cluster("a", [ann("10.1.0.0/16")]), cluster("b", [ann("10.1.0.0/16")])],
      load: { a: 0.5, b: 0.2 },
      ip: "10.1.2.3",
      want: ["b", "a"],
    },
    {
      name: "a full tie breaks by name",
      clusters: [cluster("b", [ann("10.1.0.0/16")]), cluster("a", [ann("10.1.0.0/16")])],
      ip: "10.1.2.3",
      want: ["a", "b"],
    },
    {
      name: "IPv6: longest match",
      clusters: [cluster("a", [ann("2001:db8::/32")]), cluster("b", [ann("2001:db8:1::/48")])],
      ip: "2001:db8:1::42",
      want: ["b", "a"],
    },
    {
      name: "IPv6: local preference",
      clusters: [cluster("a", [ann("2001:db8::/32")]), cluster("b", [ann("2001:db8::/32", { localPref: 150 })])],
      ip: "2001:db8:1::42",
      want: ["b", "a"],
    },
    {
      name: "IPv4-mapped IPv6 is matched as IPv4",
      clusters: [cluster("a", [ann("2001:db8::/32")]), cluster("b", [ann("10.0.0.0/8")])],
      ip: "::ffff:10.1.2.3",
      want: ["b"],
    },
    {
      name: "a cluster is ranked by its own longest match",
      clusters: [
        cluster("a", [ann("10.0.0.0/8"), ann("10.1.2.0/24", { localPref: 10 })]),
        cluster("b", [ann("10.1.0.0/16", { localPref: 900 })]),
      ],
      ip: "10.1.2.3",
      want: ["a", "b"],
    },
    {
      name: "clusters matching no prefix are left out when one matches",
      clusters: [cluster("a", [ann("10.0.0.0/8")]), cluster("b", [ann("11.0.0.0/8")], { location: LYON })],
      ip: "10.1.2.3",
      want: ["a"],
    },
    {
      name: "no match: distance",
      clusters: [
        cluster("a", [ann("10.0.0.0/8")], { location: TOKYO }),
        cluster("b", [ann("11.0.0.0/8")], { location: LYON }),
        cluster("c", [], { location: PARIS }),
      ],
      ip: "198.51.100.1",
      want: ["c", "b", "a"],
    },
    {
      name: "no match and no client location: load, then name",
      clusters: [cluster("a", [], { location: TOKYO }), cluster("b", [], { location: LYON }), cluster("c", [])],
      load: { a: 0.1, b: 0.1, c: 0.05 },
      client: null,
      ip: "198.51.100.1",
      want: ["c", "a", "b"],
    },
  ];

  it.each(cases)("$name", ({ clusters, ip, want, load, client }) => {
    const opts = { ...(load ? { load } : {}), ...(client !== undefined ? { client } : {}) };
    expect(names(rank(clusters, ip, opts))).toEqual(want);
  });

  it("reports the match that placed each cluster", () => {
    const r = rank([cluster("a", [ann("10.0.0.0/8", { asPath: [64501, 3], med: 7, localPref: 120 })])], "10.9.9.9");
    expect(r.by).toBe("prefix");
    expect(r.clusters[0]?.match).toEqual({
      cidr: "10.0.0.0/8",
      length: 8,
      localPref: 120,
      asPathLength: 2,
      neighbourAs: 64501,
      med: 7,
    });
    expect(rank([cluster("a", [])], "10.9.9.9").by).toBe("distance");
  });

  it("is deterministic: any input order gives the same ranking", () => {
    const pool = [
      cluster("a", [ann("10.1.0.0/16", { asPath: [64501], med: 5 })], { location: TOKYO }),
      cluster("b", [ann("10.1.0.0/16", { asPath: [64501], med: 1 })], { location: TOKYO }),
      cluster("c", [ann("10.1.0.0/16", { asPath: [64502], med: 0 })], { location: LYON }),
      cluster("d", [ann("10.1.0.0/16", { asPath: [64502], med: 9 })]),
      cluster("e", [ann("10.0.0.0/8")]),
      cluster("f", [ann("10.1.0.0/16", { asPath: [64503] })]),
    ];
    const want = names(rank(pool, "10.1.2.3"));
    // c precedes the nearer d: they share neighbour AS 64502 and c has the lower MED.
    expect(want).toEqual(["f", "c", "d", "b", "a", "e"]);
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length }), (shuffled) => {
        expect(names(rank(shuffled, "10.1.2.3"))).toEqual(want);
      }),
    );
  });
});

describe("health", () => {
  const two = [cluster("a", [ann("10.1.0.0/16", { localPref: 200 })]), cluster("b", [ann("10.1.0.0/16")])];
  it.each([
    { name: "fresh heartbeat", now: T0, want: ["a", "b"] },
    { name: "exactly at its expiry", now: T0 + LEASE, want: ["a", "b"] },
    {
      name: "past its expiry: both drop out, no fallback left",
      now: T0 + LEASE + 1,
      want: [],
    },
  ])("$name", ({ now, want }) => expect(names(rank(two, "10.1.2.3", { now }))).toEqual(want));

  it("a cluster whose heartbeats stop drops out at its expiry while the other stays", () => {
    const index = buildSteeringIndex(two);
    const health = new Map<string, ClusterHealth>([
      ["a", hb(T0 + LEASE, 0.1)],
      ["b", hb(T0 + LEASE, 0.1)],
    ]);
    const at = (nowMs: number) =>
      rankClusters({ index, health, policy, nowMs, address: parseIp("10.1.2.3") }).clusters.map((c) => c.cluster.name);
    expect(at(T0 + 5_000)).toEqual(["a", "b"]);
    health.set("b", hb(T0 + 5_000 + LEASE, 0.1)); // b keeps beating, a went silent at T0
    expect(at(T0 + LEASE + 1)).toEqual(["b"]);
  });

  it.each([
    { name: "saturated flag", health: hb(T0 + LEASE, 0.1, true) },
    { name: "load at the saturation threshold", health: hb(T0 + LEASE, 0.9) },
  ])("$name: drops out", ({ health }) => {
    const r = rankClusters({
      index: buildSteeringIndex(two),
      health: new Map([
        ["a", health],
        ["b", hb(T0 + LEASE, 0.1)],
      ]),
      policy,
      nowMs: T0,
      address: parseIp("10.1.2.3"),
    });
    expect(r.clusters.map((c) => c.cluster.name)).toEqual(["b"]);
  });

  it("a cluster never heard from, or without servers, drops out", () => {
    const r = rankClusters({
      index: buildSteeringIndex([...two, cluster("c", [ann("10.1.0.0/16", { localPref: 900 })], { servers: [] })]),
      health: new Map([
        ["b", hb(T0 + LEASE, 0.1)],
        ["c", hb(T0 + LEASE, 0.1)],
      ]),
      policy,
      nowMs: T0,
      address: parseIp("10.1.2.3"),
    });
    expect(r.clusters.map((c) => c.cluster.name)).toEqual(["b"]);
  });

  it.each([
    { name: "no server has a heartbeat yet: drops out", servers: [], want: ["b"] },
    {
      name: "every server's heartbeat stale: drops out",
      servers: [
        ["a-1", T0 - 1],
        ["a-2", T0 - 1],
      ],
      want: ["b"],
    },
    {
      name: "one live server keeps it in",
      servers: [
        ["a-1", T0 - 1],
        ["a-2", T0 + LEASE],
      ],
      want: ["a", "b"],
    },
  ] as { name: string; servers: [string, number][]; want: string[] }[])("$name", ({ servers, want }) => {
    const r = rankClusters({
      index: buildSteeringIndex(two),
      health: new Map([
        ["a", clusterHealth({ servers: new Map(servers), load: 0.1 })],
        ["b", hb(T0 + LEASE, 0.1)],
      ]),
      policy,
      nowMs: T0,
      address: parseIp("10.1.2.3"),
    });
    expect(r.clusters.map((c) => c.cluster.name)).toEqual(want);
  });

  it("when every matching cluster is down, falls back to distance over the rest", () => {
    const clusters = [cluster("a", [ann("10.1.0.0/16")]), cluster("z", [ann("11.0.0.0/8")], { location: LYON })];
    const r = rankClusters({
      index: buildSteeringIndex(clusters),
      health: new Map([["z", hb(T0 + LEASE, 0.1)]]),
      policy,
      nowMs: T0,
      address: parseIp("10.1.2.3"),
    });
    expect(r.by).toBe("distance");
    expect(r.clusters.map((c) => c.cluster.name)).toEqual(["z"]);
  });
});

describe("buildSteeringIndex", () => {
  it.each([
    {
      name: "bad CIDR",
      clusters: [cluster("a", [ann("10.0.0.1/8")])],
      want: /clusters\[a\]\.prefixes\[0\]\.cidr: .*bits set/,
    },
    {
      name: "same prefix twice in a cluster",
      clusters: [cluster("a", [ann("10.0.0.0/8"), ann("10.0.0.0/8")])],
      want: /clusters\[a\]\.prefixes\[1\]\.cidr: .*announced twice/,
    },
    { name: "duplicate cluster", clusters: [cluster("a", []), cluster("a", [])], want: /duplicate name "a"/ },
  ])("rejects $name", ({ clusters, want }) => {
    expect(() => buildSteeringIndex(clusters)).toThrow(SteeringInputError);
    expect(() => buildSteeringIndex(clusters)).toThrow(want);
  });
});
