import type { Server } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CURRENT_VIEW, type FleetView } from "./freshness.js";
import { createSteeringServer, SteeringConfigError } from "./http.js";
import { clusterHealth } from "./liveness.js";
import { linkSignature, verifyLink } from "./sign-url.js";
import type { ClusterView, TitleView } from "./snapshot.js";
import { SteeringStore } from "./store.js";

const T0 = Date.UTC(2026, 10, 1);
/** Every server's lease: a cluster is live this long after its last heartbeat was seen. */
const LEASE = 10_000;
/** Each cluster's link keys, as the feed derives them from the masters. */
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const linkKeys = new Map([
  ["isp-a", { keys: new Map([["k1", KEY_A]]), primary: "k1" }],
  ["ixp-b", { keys: new Map([["k1", KEY_B]]), primary: "k1" }],
]);

const clusters: ClusterView[] = [
  {
    name: "isp-a",
    region: "eu-west",
    asn: 64500,
    location: { lat: 48.86, lon: 2.35 },
    servers: [
      { name: "a-1", ipv4: "192.0.2.1", ipv6: "2001:db8:a::1" },
      { name: "a-2", ipv4: "192.0.2.2" },
    ],
    prefixes: [
      { cidr: "198.51.100.0/24", asPath: [64500], med: 0, localPref: 200 },
      { cidr: "2001:db8:100::/48", asPath: [64500], med: 0, localPref: 200 },
    ],
  },
  {
    name: "ixp-b",
    region: "eu-west",
    asn: 64999,
    location: { lat: 50.11, lon: 8.68 },
    servers: [{ name: "b-1", ipv4: "203.0.113.1", ipv6: "2001:db8:b::1" }],
    prefixes: [
      { cidr: "198.51.0.0/16", asPath: [64501, 64500], med: 0, localPref: 100 },
      { cidr: "2001:db8::/32", asPath: [64501, 64500], med: 0, localPref: 100 },
    ],
    httpsPort: 8443,
  },
];

const rung = (path: string, bitrateKbps: number) => ({ path, bitrateKbps });
const titles: TitleView[] = [
  {
    id: "filled",
    ladder: [
      { kind: "video", codec: "av1", rungs: [rung("filled/v/480.mp4", 900), rung("filled/v/1080.mp4", 4500)] },
      { kind: "audio", codec: "aac", rungs: [rung("filled/a/128.m4a", 128)] },
    ],
  },
  { id: "unfilled", ladder: [{ kind: "video", codec: "av1", rungs: [rung("unfilled/v/480.mp4", 900)] }] },
];

/** The union of the service's JSON answers, loosely: each test reads the part it asserts on. */
type Body = {
  client: string;
  by: string;
  clusters: { name: string; match: unknown; servers: unknown[] }[];
  expiresAt: string;
  ladder: { rungs: { urls: string[] }[] }[];
  error: { code: string; message: string };
  stale?: { since: string };
};

describe("steering HTTP service", () => {
  let server: Server;
  let base: string;
  let now = T0;
  let view: FleetView = CURRENT_VIEW;
  const store = new SteeringStore();

  beforeAll(async () => {
    store.setClusters(clusters);
    store.setTitles(titles);
    // The active placements hold only "filled": "unfilled" is in a pending generation.
    store.setActivePlacement("isp-a", (p) => (p.startsWith("filled/") ? [p.includes("/v/") ? "a-1" : "a-2"] : []));
    store.setActivePlacement("ixp-b", (p) => (p.startsWith("filled/") ? ["b-1"] : []));
    store.setLinkKeys(linkKeys);
    server = createSteeringServer(
      { trustedProxies: ["127.0.0.0/8"], regionDefault: { lat: 48.86, lon: 2.35 }, staleWhileErrorSeconds: 60 },
      { state: () => store.state, now: () => now, view: () => view },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    if (addr === null || typeof addr === "string") throw new Error("no port");
    base = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Every server's heartbeat seen `now`, except the `silent` ones': theirs stay as last seen (or absent). */
  const beat = (...silent: string[]) => {
    for (const c of clusters) {
      const before = store.state.health.get(c.name)?.servers;
      const servers = new Map(
        c.servers.flatMap((s): [string, number][] => {
          const e = silent.includes(s.name) ? before?.get(s.name) : now + LEASE;
          return e === undefined ? [] : [[s.name, e]];
        }),
      );
      store.recordHeartbeat(c.name, clusterHealth({ servers, load: 0.2 }));
    }
  };

  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, { headers });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      stale: res.headers.get("x-edgefleet-stale"),
      retryAfter: res.headers.get("retry-after"),
      body: (await res.json()) as Body,
    };
  }

  it("ranks clusters for ?ip=", async () => {
    now = T0;
    beat();
    const r = await get("/v1/steering?ip=198.51.100.7");
    expect(r.status).toBe(200);
    expect(r.body.by).toBe("prefix");
    expect(r.body.clusters.map((c) => c.name)).toEqual(["isp-a", "ixp-b"]);
    expect(r.body.clusters[0]?.match).toMatchObject({ cidr: "198.51.100.0/24", localPref: 200 });
    expect(r.body.clusters[0]?.servers).toEqual([
      { name: "a-1", ipv4: "192.0.2.1", ipv6: "2001:db8:a::1" },
      { name: "a-2", ipv4: "192.0.2.2" },
    ]);
  });

  it("takes the client from X-Forwarded-For of a trusted proxy (IPv6)", async () => {
    beat();
    const r = await get("/v1/steering", { "x-forwarded-for": "2001:db8:5::9" });
    expect(r.body.client).toBe("2001:db8:5::9");
    expect(r.body.clusters.map((c) => c.name)).toEqual(["ixp-b"]);
  });

  it("a cluster whose heartbeats stop drops out once its lease expires", async () => {
    now = T0;
    beat();
    now = T0 + LEASE / 2;
    beat("a-1", "a-2");
    now = T0 + LEASE + 1;
    const r = await get("/v1/steering?ip=198.51.100.7");
    expect(r.body.clusters.map((c) => c.name)).toEqual(["ixp-b"]);
    now = T0 + LEASE / 2 + LEASE + 1;
    expect((await get("/v1/steering?ip=198.51.100.7")).status).toBe(503);
  });

  const listed = async () =>
    (await get("/v1/steering?ip=198.51.100.7")).body.clusters.map((c) => [
      c.name,
      c.servers.map((s) => (s as { name: string }).name),
    ]);
  /** Per ladder entry, per rung, the hosts of its URLs, for one client (always the same cache class). */
  const hostsInManifest = async () =>
    (await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" })).body.ladder.map((e) =>
      e.rungs.map((r) => r.urls.map((u) => new URL(u).host)),
    );

  it("/v1/steering lists only live servers: one drops by time alone, and is back when it renews", async () => {
    now = T0;
    beat();
    now = T0 + LEASE / 2;
    beat("a-2"); // a-2 is silent from here on: live until T0 + LEASE
    now = T0 + LEASE;
    expect(await listed()).toEqual([
      ["isp-a", ["a-1", "a-2"]],
      ["ixp-b", ["b-1"]],
    ]);
    now = T0 + LEASE + 1;
    expect(await listed()).toEqual([
      ["isp-a", ["a-1"]],
      ["ixp-b", ["b-1"]],
    ]);
    beat();
    expect((await listed())[0]).toEqual(["isp-a", ["a-1", "a-2"]]);
  });

  it("a cached manifest does not outlive a server's liveness, and names it again once it renews", async () => {
    const [a1, a2, b1] = ["192.0.2.1", "192.0.2.2", "203.0.113.1:8443"];
    const all = [
      [
        [a1, b1],
        [a1, b1],
      ],
      [[a2, b1]],
    ];
    now = T0;
    beat();
    now = T0 + LEASE / 2;
    beat("a-2");
    now = T0 + LEASE;
    expect(await hostsInManifest()).toEqual(all); // a-2 at its expiry: still live, and now cached
    // One millisecond on: the same links' expiry minute, so the same cache entry but for a-2's liveness.
    now = T0 + LEASE + 1;
    expect(await hostsInManifest()).toEqual([
      [
        [a1, b1],
        [a1, b1],
      ],
      [[b1]],
    ]); // its audio only from ixp-b
    beat();
    expect(await hostsInManifest()).toEqual(all);
  });

  it("while the heartbeat watch is down: servers live when it broke stay live, answers say how stale, for at most the bound", async () => {
    now = T0;
    beat();
    now = T0 + LEASE / 2;
    beat("a-2"); // a-2 expires at T0 + LEASE, the others at T0 + 1.5 LEASE
    const broke = T0 + LEASE + 1; // a-2 already stale when the watch broke
    view = { synced: true, waitingFor: [], leasesDownSinceMs: broke };
    now = T0 + 5 * LEASE; // every lease would have expired by now
    const r = await get("/v1/steering?ip=198.51.100.7");
    expect([r.status, r.stale, r.body.stale]).toEqual([
      200,
      String(Math.floor((now - broke) / 1000)),
      { since: new Date(broke).toISOString() },
    ]);
    expect(await listed()).toEqual([
      ["isp-a", ["a-1"]],
      ["ixp-b", ["b-1"]],
    ]);
    const m = await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" });
    expect([m.status, m.stale, m.body.stale?.since]).toEqual([
      200,
      expect.stringMatching(/^\d+$/),
      new Date(broke).toISOString(),
    ]);
    expect(m.body.ladder[1]?.rungs[0]?.urls.map((u) => new URL(u).host)).toEqual(["203.0.113.1:8443"]); // not a-2
    now = broke + 60_000; // the bound, 60 s: still held
    expect((await get("/v1/steering?ip=198.51.100.7")).status).toBe(200);
    now = broke + 60_001; // past it: judged at the real time, as if every server had stopped renewing
    const closed = await get("/v1/steering?ip=198.51.100.7");
    expect([closed.status, closed.body.error.code, closed.stale]).toEqual([503, "NoClusterAvailable", "60"]);
    expect(closed.body.error.message).toMatch(/down for 60 s, longer than the 60 s/);
    view = CURRENT_VIEW; // the watch is back and every server renews
    beat();
    const back = await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" });
    expect([back.status, back.stale, back.body.stale]).toEqual([200, null, undefined]);
  });

  it("answers 503 NotSynced, and when to retry, until the view is filled", async () => {
    view = { synced: false, waitingFor: ["leases", "titles"], leasesDownSinceMs: undefined };
    const r = await get("/v1/playback/filled");
    view = CURRENT_VIEW;
    expect([r.status, r.body.error.code, r.retryAfter]).toEqual([503, "NotSynced", "1"]);
    expect(r.body.error.message).toContain("leases, titles");
  });

  it("serves the manifest with ranked signed URLs from the active placement", async () => {
    now = T0;
    beat();
    const r = await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" });
    expect(r.status).toBe(200);
    const exp = T0 / 1000 + 6 * 3600;
    const path = "/filled/v/1080.mp4";
    // Each cluster's URL signed with its own key, bound to the client's /24.
    const net = "198.51.100.0/24";
    const sig = (key: Buffer) => linkSignature(key, { kid: "k1", exp, net, path });
    expect(r.body.expiresAt).toBe(new Date(exp * 1000).toISOString());
    expect(r.body.ladder[0]?.rungs[1]).toEqual({
      path: "filled/v/1080.mp4",
      bitrateKbps: 4500,
      urls: [
        `https://192.0.2.1${path}?kid=k1&exp=${exp}&net=${net}&sig=${sig(KEY_A)}`,
        `https://203.0.113.1:8443${path}?kid=k1&exp=${exp}&net=${net}&sig=${sig(KEY_B)}`,
      ],
    });
    expect(r.body.ladder[1]?.rungs[0]?.urls[0]).toMatch(/^https:\/\/192\.0\.2\.2\/filled\/a\/128\.m4a\?/);
  });

  it("gives IPv6 clients the servers' IPv6 addresses", async () => {
    beat();
    const r = await get("/v1/playback/filled", { "x-forwarded-for": "2001:db8:100::5" });
    expect(r.body.ladder[0]?.rungs[0]?.urls.map((u) => new URL(u).host)).toEqual([
      "[2001:db8:a::1]",
      "[2001:db8:b::1]:8443",
    ]);
  });

  it("binds every link to the client's /24, and caches manifests per network, not per address", async () => {
    beat();
    const links = async (client: string) =>
      (await get("/v1/playback/filled", { "x-forwarded-for": client })).body.ladder[0]?.rungs[0]?.urls ?? [];
    const a = await links("198.51.100.7");
    expect(a.map((u) => new URL(u).searchParams.get("net"))).toEqual(["198.51.100.0/24", "198.51.100.0/24"]);
    expect(await links("198.51.100.200")).toEqual(a); // the same /24 (and spread class): the same links
    const other = await links("198.51.101.7");
    expect(other.length).toBeGreaterThan(0);
    expect(new Set(other.map((u) => new URL(u).searchParams.get("net")))).toEqual(new Set(["198.51.101.0/24"]));
    expect(new URL((await links("2001:db8:100::5"))[0] ?? "").searchParams.get("net")).toBe("2001:db8:100::/48");
  });

  it("a rotation: signs with the new primary only once every live server of the cluster holds it", async () => {
    now = T0;
    const K2_A = Buffer.alloc(32, 0xa2);
    const kids = (c: string, held: string[] | undefined) => {
      const h = store.state.health.get(c);
      if (h)
        store.recordHeartbeat(c, clusterHealth({ ...h, linkKids: held === undefined ? undefined : new Set(held) }));
    };
    const kidsInManifest = async () =>
      (
        (await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" })).body.ladder[0]?.rungs[0]?.urls ?? []
      ).map((u) => new URL(u).searchParams.get("kid"));
    beat();
    store.setLinkKeys(
      new Map([
        [
          "isp-a",
          {
            keys: new Map([
              ["k1", KEY_A],
              ["k2", K2_A],
            ]),
            primary: "k2",
          },
        ],
        ["ixp-b", { keys: new Map([["k1", KEY_B]]), primary: "k1" }],
      ]),
    );
    kids("isp-a", ["k1"]);
    expect(await kidsInManifest()).toEqual(["k1", "k1"]); // isp-a's edges lack k2 yet: k1, which they hold
    kids("isp-a", ["k1", "k2"]);
    expect(await kidsInManifest()).toEqual(["k2", "k1"]); // the cached manifest does not outlive the step
    const k2Link = new URL(
      (await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" })).body.ladder[0]?.rungs[0]?.urls[0] ?? "",
    );
    const refused = verifyLink({
      path: k2Link.pathname,
      query: k2Link.searchParams,
      clientNet: "198.51.100.0/24",
      keyOf: (kid) => (kid === "k2" ? K2_A : undefined),
      nowMs: now,
    });
    expect(refused).toBeUndefined();
    store.setLinkKeys(linkKeys);
    beat();
  });

  it("a placement change reaches the next manifest despite the manifest cache", async () => {
    beat();
    const hosts = async () =>
      (await get("/v1/playback/filled", { "x-forwarded-for": "198.51.100.7" })).body.ladder[0]?.rungs[0]?.urls.map(
        (u) => new URL(u).host,
      );
    expect(await hosts()).toEqual(["192.0.2.1", "203.0.113.1:8443"]);
    const before = store.state.placements.get("isp-a");
    store.setActivePlacement("isp-a", undefined);
    expect(await hosts()).toEqual(["203.0.113.1:8443"]);
    store.setActivePlacement("isp-a", before);
    expect(await hosts()).toEqual(["192.0.2.1", "203.0.113.1:8443"]);
  });

  it("splits clients evenly over the holders of a replicated file, each client always on the same one", async () => {
    beat();
    const before = store.state.placements.get("isp-a");
    // The 1080p rung is hot: both of isp-a's servers hold it.
    store.setActivePlacement("isp-a", (p) => (p === "filled/v/1080.mp4" ? ["a-1", "a-2"] : (before?.(p) ?? [])));
    const host = async (client: string) => {
      const r = await get("/v1/playback/filled", { "x-forwarded-for": client });
      return new URL(r.body.ladder[0]?.rungs[1]?.urls[0] ?? "").hostname;
    };
    const clients = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const seen = await Promise.all(clients.map(host));
    const perHolder = new Map<string, number>();
    for (const h of seen) perHolder.set(h, (perHolder.get(h) ?? 0) + 1);
    expect([...perHolder.keys()].sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    for (const n of perHolder.values()) expect(n).toBeGreaterThanOrEqual(8); // roughly even, never all on one
    expect(await host(clients[0] ?? "")).toBe(seen[0]);
    store.setActivePlacement("isp-a", before);
  });

  it("never offers a title that is not filled in the active placement", async () => {
    beat();
    const r = await get("/v1/playback/unfilled", { "x-forwarded-for": "198.51.100.7" });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("TitleNotAvailable");
  });

  it("falls back to distance for a client no prefix matches", async () => {
    beat();
    const r = await get("/v1/steering?ip=192.0.2.77");
    expect(r.body.by).toBe("distance");
    expect(r.body.clusters.map((c) => c.name)).toEqual(["isp-a", "ixp-b"]);
  });

  it.each([
    { name: "malformed ip", path: "/v1/steering?ip=1.2.3.999", status: 400, code: "InvalidAddress", field: /^ip: / },
    {
      name: "malformed X-Forwarded-For",
      path: "/v1/steering",
      headers: { "x-forwarded-for": "nope" },
      status: 400,
      code: "InvalidAddress",
      field: /^x-forwarded-for: /,
    },
    { name: "unknown title", path: "/v1/playback/nope", status: 404, code: "UnknownTitle", field: /nope/ },
    { name: "malformed title", path: "/v1/playback/..%2Fetc", status: 400, code: "InvalidTitle", field: /^title: / },
    { name: "title with a slash", path: "/v1/playback/filled/x", status: 400, code: "InvalidTitle", field: /^title: / },
    { name: "unknown route", path: "/v2/x", status: 404, code: "NotFound", field: /v2/ },
    {
      name: "URL too long",
      path: `/v1/steering?x=${"a".repeat(3000)}`,
      status: 414,
      code: "UriTooLong",
      field: /2048 bytes/,
    },
  ])("$name → $status JSON", async ({ path, headers, status, code, field }) => {
    beat();
    const r = await get(path, headers);
    expect(r.status).toBe(status);
    expect(r.type).toBe("application/json");
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toMatch(field);
  });

  it("rejects other methods with 405", async () => {
    const res = await fetch(`${base}/v1/steering`, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers oversized headers and garbage with a JSON 4xx and keeps serving", async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(Number(new URL(base).port), "127.0.0.1", () => s.end(text));
        let out = "";
        s.on("data", (d) => {
          out += d.toString();
        });
        s.on("end", () => resolve(out));
        s.on("error", reject);
      });
    const big = await raw(`GET /v1/steering HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(10_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toMatch(/"code":"HeadersTooLarge"/);
    const junk = await raw("\x00\x01 nonsense\r\n\r\n");
    expect(junk).toMatch(/^HTTP\/1\.1 400 /);
    beat();
    expect((await get("/v1/steering?ip=198.51.100.7")).status).toBe(200);
  });

  it("rejects invalid settings naming the field", () => {
    const deps = { state: () => store.state, now: () => now };
    expect(() => createSteeringServer({ maxClusters: 0 }, deps)).toThrow(SteeringConfigError);
    expect(() => createSteeringServer({ maxClusters: 0 }, deps)).toThrow(/maxClusters/);
    expect(() => createSteeringServer({ trustedProxies: ["10.0.0.1/8"] }, deps)).toThrow(/trustedProxies\[0\]/);
    expect(() => createSteeringServer({ manifestCacheBytes: -1 }, deps)).toThrow(/manifestCacheBytes/);
    expect(() => createSteeringServer({ maxConnections: 0 }, deps)).toThrow(/maxConnections/);
    expect(() => createSteeringServer({ headersTimeoutSeconds: 20, requestTimeoutSeconds: 10 }, deps)).toThrow(
      /must be at least the headers timeout[\s\S]*requestTimeoutSeconds/,
    );
  });
});
