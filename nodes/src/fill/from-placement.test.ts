import { describe, expect, it } from "vitest";
import { mustParse, type OCACluster, type Placement, parseBitsPerSecond } from "../../../operator/src/api/index.js";
import { loadSamples, sample } from "../../../operator/src/api/testdata/samples.js";
import { fileKey, regionCatalog } from "../../../operator/src/catalog/catalog.js";
import { serversOf } from "../../../operator/src/catalog/servers.js";
import { assign, planHca } from "../../../operator/src/placement/index.js";
import { assignedFiles, checkPromoted, fillSpecFor, type PlacementInputs, placementServers } from "./from-placement.js";

const all = loadSamples().map((s) => s.object);
const titles = all.filter((o) => o.kind === "Title").map((o) => mustParse("Title", o));
const popularity = mustParse("Popularity", sample("Popularity", "eu-west"));
const cluster = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));

/** A Placement as the operator would write it: HCA over the region's catalog built from the same objects. */
function placementFor(c: OCACluster): Placement {
  const catalog = regionCatalog(c.spec.region, titles, popularity);
  const { plan } = planHca({
    cluster: c.metadata.name,
    catalogGeneration: catalog.generation,
    servers: serversOf(c.spec),
    catalog: catalog.files,
  });
  return mustParse("Placement", {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name: `${c.metadata.name}-p`, namespace: "edge" },
    spec: {
      cluster: plan.cluster,
      catalogGeneration: plan.catalogGeneration,
      cutoff: plan.cutoff,
      servers: plan.servers,
    },
  });
}

const placement = placementFor(cluster);
const inputs: PlacementInputs = { placement, cluster, titles, popularity };
const target = { server: "s01", contentPath: "/var/lib/edgefleet/content", secretPath: "/etc/edgefleet/secret/key" };

describe("fillSpecFor", () => {
  it("gives each server exactly the files assign() gives it, and every stored file lands somewhere", () => {
    const catalog = regionCatalog(cluster.spec.region, titles, popularity);
    const a = assign(placement.spec, catalog.files, placementServers(placement, cluster));
    const pathOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [fileKey(t.spec.id, f.path), f])));
    const seen = new Set<string>();
    for (const s of placement.spec.servers) {
      const spec = fillSpecFor(inputs, { ...target, server: s.name });
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
    const spec = fillSpecFor(inputs, target);
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

  it("refuses two titles with the same file path: they would overwrite each other on disk", () => {
    const [t0, t1] = titles.filter((t) => t.spec.regions.includes("eu-west"));
    if (!t0 || !t1) throw new Error("need two eu-west sample titles");
    const clash = { ...t1, spec: { ...t1.spec, files: [...t1.spec.files, ...t0.spec.files.slice(0, 1)] } };
    const ts = titles.map((t) => (t === t1 ? clash : t));
    const p = {
      ...placement,
      spec: { ...placement.spec, catalogGeneration: regionCatalog("eu-west", ts, popularity).generation },
    };
    expect(() => assignedFiles({ ...inputs, titles: ts, placement: p }, "s01")).toThrow(
      /paths must be unique across titles/,
    );
  });
});

it("without a secret to sign with, fills from the origin only", () => {
  const spec = fillSpecFor(inputs, { ...target, secretPath: undefined });
  expect(spec.sources.peers).toEqual([]);
  expect(spec.files.every((f) => f.peers.length === 0)).toBe(true);
  expect(spec.files.map((f) => f.path)).toEqual(fillSpecFor(inputs, target).files.map((f) => f.path));
});

describe("checkPromoted", () => {
  it.each([
    { phase: undefined, ok: false },
    { phase: "Pending", ok: false },
    { phase: "Filling", ok: false },
    { phase: "Active", ok: true },
    { phase: "Superseded", ok: false },
  ] as const)("phase $phase → evict allowed: $ok", ({ phase, ok }) => {
    const p = { ...placement, status: phase === undefined ? undefined : { phase } };
    if (ok) expect(() => checkPromoted(p)).not.toThrow();
    else expect(() => checkPromoted(p)).toThrow(/not Active: evict only after promotion/);
  });
});
