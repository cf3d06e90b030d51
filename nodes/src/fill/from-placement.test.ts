import { describe, expect, it } from "vitest";
import { mustParse, type Placement, type Popularity, parseBitsPerSecond } from "../../../operator/src/api/index.js";
import { sample } from "../../../operator/src/api/testdata/samples.js";
import { fileKey, regionCatalog } from "../../../operator/src/catalog/catalog.js";
import { assign, ringNeighbours } from "../../../operator/src/placement/index.js";
import {
  assignedFiles,
  checkPromoted,
  fillSpecFor,
  keptFiles,
  keptPlacements,
  type PlacementInputs,
  PlacementMismatchError,
  placementServers,
} from "./from-placement.js";
import { placementFor, popularity, titles } from "./testing.js";

const cluster = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));

const placement = placementFor(cluster);
const inputs: PlacementInputs = { placement, cluster, titles, popularity };
const target = { server: "s01", contentPath: "/var/lib/edgefleet/content", linkKeysDir: "/etc/edgefleet/link-keys" };

describe("fillSpecFor", () => {
  it("gives each server exactly the files assign() gives it, and every stored file lands somewhere", () => {
    const catalog = regionCatalog(cluster.spec.region, titles, popularity);
    const a = assign(placement.spec, catalog.files, placementServers(placement, cluster));
    const pathOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [fileKey(t.spec.id, f.path), f])));
    const seen = new Set<string>();
    for (const s of placement.spec.servers) {
      const { spec } = fillSpecFor(inputs, { ...target, server: s.name });
      const want = a.filesOf(s.name).map((k) => pathOf.get(k)?.path);
      expect(spec.files.map((f) => f.path)).toEqual(want);
      for (const f of spec.files) {
        seen.add(f.path);
        expect(f.peers).not.toContain(s.name);
      }
    }
    expect(seen.size).toBe(a.stored);
  });

  it("peers are the Placement's other servers at ipv4 (port 80 implied); the cap is split over the servers", () => {
    const { spec } = fillSpecFor(inputs, target);
    expect(spec.sources.peers).toContainEqual({
      name: "s02",
      url: "http://100.72.16.12",
    });
    expect(spec.sources.peers.map((p) => p.name)).not.toContain("s01");
    expect(spec.sources.origin).toBe(cluster.spec.fill.sources.origin.replace(/\/+$/, ""));
    expect(spec.bandwidthCap).toBeCloseTo(parseBitsPerSecond(cluster.spec.fill.bandwidthCap) / 8 / 6);
  });

  const withDemand = (n: number): PlacementInputs => ({
    ...inputs,
    popularity: {
      ...popularity,
      spec: { ...popularity.spec, demand: { ...popularity.spec.demand, "night-harbor": n } },
    },
  });
  const otherCluster = mustParse("OCACluster", sample("OCACluster", "ams-ix-1"));
  it.each([
    { name: "server not in the Placement", inputs, server: "s09", want: '--server: "s09" is not among' },
    { name: "catalog changed since", inputs: withDemand(7), server: "s01", want: "spec.catalogGeneration is" },
    {
      name: "Placement of another cluster",
      inputs: { ...inputs, cluster: otherCluster },
      server: "s01",
      want: "spec.cluster is",
    },
    {
      name: "Placement server missing from the cluster",
      inputs: { ...inputs, cluster: { ...cluster, spec: { ...cluster.spec, servers: cluster.spec.servers.slice(1) } } },
      server: "s02",
      want: /spec\.servers\[\d+\]\.name: "s01" is not a server of OCACluster ams-polder-1/,
    },
  ])("refuses: $name", ({ inputs: i, server, want }) => {
    expect(() => fillSpecFor(i, { ...target, server })).toThrow(want);
  });

  it("leaves out the later-created of two titles naming one file path, as the operator's catalog does", () => {
    const [t0, t1] = titles.filter((t) => t.spec.regions.includes("eu-west"));
    if (!t0 || !t1) throw new Error("need two eu-west sample titles");
    // A file of t0 that the catalog places (it is on t0's ladder), named by t1 too.
    const key = regionCatalog("eu-west", titles, popularity).files.find((f) => f.key.startsWith(`${t0.spec.id}/`))?.key;
    const shared = t0.spec.files.find((f) => fileKey(t0.spec.id, f.path) === key);
    if (!shared) throw new Error("no placed file of t0");
    const at = (t: typeof t0, ts: string) => ({ ...t, metadata: { ...t.metadata, creationTimestamp: ts } });
    const older = at(t0, "2026-01-01T00:00:00Z");
    const clash = at({ ...t1, spec: { ...t1.spec, files: [...t1.spec.files, shared] } }, "2026-02-01T00:00:00Z");
    const ts = titles.map((t) => (t === t1 ? clash : t === t0 ? older : t));
    const catalog = regionCatalog("eu-west", ts, popularity);
    expect(catalog.files.map((f) => f.key)).toContain(key);
    expect(catalog.files.filter((f) => f.key.startsWith(`${t1.spec.id}/`))).toEqual([]);
    const p = { ...placement, spec: { ...placement.spec, catalogGeneration: catalog.generation } };
    const filled = placement.spec.servers.flatMap((s) =>
      assignedFiles({ ...inputs, titles: ts, placement: p }, s.name).files.map((f) => f.path),
    );
    expect(filled).toContain(shared.path);
    expect(filled.filter((f) => f !== shared.path && t1.spec.files.some((x) => x.path === f))).toEqual([]);
  });
});

describe("fillSpecFor with the cluster's Active placement", () => {
  // Yesterday's popularity, the other way round: a ring computed for another catalog generation.
  const ranked = Object.entries(popularity.spec.demand).sort((a, b) => b[1] - a[1]);
  const yesterday: Popularity = {
    ...popularity,
    spec: {
      ...popularity.spec,
      demand: Object.fromEntries(ranked.map(([title], i) => [title, ranked[ranked.length - 1 - i]?.[1] ?? 0])),
    },
  };
  const active = placementFor(cluster, yesterday, "ams-polder-1-old");
  const catalog = regionCatalog(cluster.spec.region, titles, popularity);
  const keyOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [f.path, fileKey(t.spec.id, f.path)])));
  /** Where steering locates files now: the Active ring over the current catalog. */
  const now = assign(active.spec, catalog.files, placementServers(active, cluster));
  const next = assign(placement.spec, catalog.files, placementServers(placement, cluster));
  const holdersBy = (a: Pick<typeof now, "holdersOf">, path: string, self: string) =>
    a.holdersOf(keyOf.get(path) ?? "").filter((n) => n !== self);
  /** Where yesterday's ranking may have put the file instead: the first server on each of its rings. */
  const near = ringNeighbours(active.spec, 1);
  const neighbours = { holdersOf: (key: string) => near(key) };

  it("asks each file's holders under the Active ring (over the current catalog) first, then its ring neighbours, then the new ones", () => {
    expect(active.spec.catalogGeneration).not.toBe(placement.spec.catalogGeneration);
    let moved = 0;
    for (const { name: server } of placement.spec.servers) {
      const { spec, active: used } = fillSpecFor({ ...inputs, active }, { ...target, server });
      expect(used.placement).toBe("ams-polder-1-old");
      for (const f of spec.files) {
        const before = holdersBy(now, f.path, server);
        expect(f.peers.slice(0, before.length), f.path).toEqual(before);
        const around = holdersBy(neighbours, f.path, server);
        expect(new Set(f.peers)).toEqual(new Set([...before, ...around, ...holdersBy(next, f.path, server)]));
        if (before.length > 0 && !holdersBy(next, f.path, server).includes(before[0] ?? "")) moved++;
      }
    }
    // Files that change servers are the reason for asking the Active holders: there must be some.
    expect(moved).toBeGreaterThan(0);
  });

  it("a server the new Placement drops still serves its files: it is a peer, asked first for them", () => {
    const without = {
      ...cluster,
      spec: { ...cluster.spec, servers: cluster.spec.servers.filter((s) => s.name !== "f02") },
    };
    const p = placementFor(without, popularity, "ams-polder-1-no-f02");
    const current = placementFor(cluster, popularity, "ams-polder-1-all");
    const { spec } = fillSpecFor({ ...inputs, placement: p, active: current }, target);
    expect(spec.sources.peers.map((x) => x.name)).toContain("f02");
    expect(spec.files.some((f) => f.peers[0] === "f02")).toBe(true);
    expect(fillSpecFor({ ...inputs, placement: p }, target).spec.sources.peers.map((x) => x.name)).not.toContain("f02");
  });

  const today = fillSpecFor(inputs, target).spec;
  it.each([
    { name: "no Active placement (the site's first fill)", active: undefined, why: /no Active placement/ },
    { name: "the Active placement is the one being filled", active: placement, why: /is already the Active one/ },
    {
      name: "the Active placement is another cluster's",
      active: { ...active, spec: { ...active.spec, cluster: "ams-ix-1" } },
      why: /is of cluster "ams-ix-1"/,
    },
    {
      name: "the Active placement names a server the cluster no longer has",
      active: {
        ...active,
        spec: { ...active.spec, servers: [...active.spec.servers, { name: "s09", headTokens: 1, tailTokens: 1 }] },
      },
      why: /"s09" is not a server of OCACluster/,
    },
  ])("$name → peers as the new Placement alone gives them", ({ active: a, why }) => {
    const { spec, active: used } = fillSpecFor({ ...inputs, active: a }, target);
    expect(used.placement).toBeUndefined();
    expect(used.why).toMatch(why);
    expect(spec).toEqual(today);
  });
});

it("without link keys to sign with, fills from the origin only", () => {
  const { spec } = fillSpecFor(inputs, { ...target, linkKeysDir: undefined });
  expect(spec.sources.peers).toEqual([]);
  expect(spec.files.every((f) => f.peers.length === 0)).toBe(true);
  expect(spec.files.map((f) => f.path)).toEqual(fillSpecFor(inputs, target).spec.files.map((f) => f.path));
});

describe("checkPromoted", () => {
  it.each([
    { phase: undefined, ok: false },
    { phase: "Pending", ok: false },
    { phase: "Filling", ok: false },
    { phase: "Active", ok: "active" },
    { phase: "Superseded", ok: "superseded" },
  ] as const)("phase $phase → evict: $ok", ({ phase, ok }) => {
    const p = { ...placement, status: phase === undefined ? undefined : { phase } };
    if (ok) expect(checkPromoted(p)).toBe(ok);
    else expect(() => checkPromoted(p)).toThrow(/not Active: evict only after promotion/);
  });
});

describe("what stays on disk: keptPlacements, keptFiles", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  const withStatus = (p: Placement, status: Placement["status"]): Placement => ({ ...p, status });
  const superseded = (name: string, hoursAgo: number | undefined) =>
    withStatus(
      { ...placement, metadata: { ...placement.metadata, name } },
      {
        phase: "Superseded",
        ...(hoursAgo === undefined
          ? {}
          : { supersededAt: new Date(now.getTime() - hoursAgo * 3600_000).toISOString() }),
      },
    );
  const other = {
    ...placement,
    metadata: { ...placement.metadata, name: "ix" },
    spec: { ...placement.spec, cluster: "ams-ix-1" },
  };

  it("keeps every live Placement of the cluster and those superseded within the grace, no other", () => {
    const all = [
      withStatus(placement, { phase: "Active" }),
      withStatus({ ...placement, metadata: { ...placement.metadata, name: "filling" } }, { phase: "Filling" }),
      { ...placement, metadata: { ...placement.metadata, name: "pending" } },
      superseded("an-hour-ago", 1),
      superseded("a-day-ago", 24),
      superseded("before-supersededAt-existed", undefined),
      other,
    ];
    expect(keptPlacements(all, "ams-polder-1", now, 6 * 3600).map((p) => p.metadata.name)).toEqual([
      placement.metadata.name,
      "filling",
      "pending",
      "an-hour-ago",
    ]);
  });

  it("a server keeps the union of what each kept Placement gives it, over the current catalog", () => {
    const demand = Object.fromEntries(
      Object.entries(popularity.spec.demand).map(([t, n], i) => [t, i % 2 ? n * 5 : n]),
    );
    const older = placementFor(cluster, { ...popularity, spec: { ...popularity.spec, demand } }, "older");
    const catalog = regionCatalog(cluster.spec.region, titles, popularity);
    const pathOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [fileKey(t.spec.id, f.path), f.path])));
    const filesOf = (p: Placement) =>
      assign(p.spec, catalog.files, placementServers(p, cluster))
        .filesOf("s01")
        .map((k) => pathOf.get(k));
    // The older one was computed over another ranking: where it put a file may be its other ring, so
    // the files whose first server on either of its rings is s01 stay as well.
    const near = ringNeighbours(older.spec, 1);
    const around = catalog.files.filter((f) => near(f.key).includes("s01")).map((f) => pathOf.get(f.key));
    const kept = keptFiles(inputs, [placement, older], "s01").map((f) => f.path);
    expect(new Set(kept)).toEqual(new Set([...filesOf(placement), ...filesOf(older), ...around]));
    expect(kept.length).toBeGreaterThan(filesOf(placement).length);
    expect(keptFiles(inputs, [placement], "s01").map((f) => f.path)).toEqual(filesOf(placement));
  });

  it("refuses when a kept Placement cannot be assigned (a server it names has left): nothing may be deleted", () => {
    const gone = {
      ...cluster,
      spec: { ...cluster.spec, servers: cluster.spec.servers.filter((x) => x.name !== "s02") },
    };
    expect(() => keptFiles({ ...inputs, cluster: gone }, [placement], "s01")).toThrow(PlacementMismatchError);
  });
});
