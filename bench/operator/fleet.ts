/**
 * A synthetic fleet at operator scale, derived from the committed samples (crds/samples/): N clusters
 * cycling through the three sample sites over two regions, each with M servers on its own kwok node,
 * its own addresses and client prefixes, and a fill window open now (UTC), as sampleFleet does; T
 * Titles with small but realistic ladders; one Zipf Popularity per region, and a drifted next day.
 * Pure and seeded: the same arguments give the same objects.
 */
import { createHash } from "node:crypto";
import { maxPopularityTitles } from "../../operator/src/api/popularity.js";
import { sampleFleet } from "../../operator/src/api/testdata/samples.js";
import { Rng } from "../../operator/src/placement/rng.js";
import type { KubeObject } from "../../operator/src/runtime/kube.js";

export const regions = ["eu-west", "us-east"] as const;
const apiVersion = "cdn.edgefleet.dev/v1alpha1";

type Spec = Record<string, unknown>;
type ServerSpec = { name: string; node: string; class: string; ipv4: string; ipv6: string };

const ipv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/**
 * Cluster i: the sample site i mod 3 renamed (ams-polder-7, ams-ix-8, iad-hudson-9, …), in region
 * i mod 2, with M servers (two thirds storage, the rest flash) at 100.64.0.0/10 + i·2048 and a /21 and
 * a /48 of client prefixes of its own, announced from a private ASN.
 */
export function benchClusters(n: number, serversPerCluster: number, now: Date, namespace: string): KubeObject[] {
  const templates = sampleFleet(now).clusters;
  return Array.from({ length: n }, (_, i) => {
    const t = structuredClone(templates[i % templates.length]) as KubeObject & { spec: Spec };
    const name = `${t.metadata.name.replace(/-\d+$/, "")}-${i + 1}`;
    const region = regions[i % regions.length] as string;
    const storage = Math.max(1, Math.ceil((serversPerCluster * 2) / 3));
    const base = ((100 << 24) | (64 << 16)) + i * 2048;
    const servers = Array.from({ length: serversPerCluster }, (_, j) =>
      j < storage ? server(name, i, j, "storage", j + 1) : server(name, i, j, "flash", j - storage + 1),
    );
    const asn = 64512 + (i % 1000);
    const fill = t.spec.fill as { sources: object };
    // The samples' fixed cutoff (iad-hudson's 40) suits their few dozen titles; at thousands it is
    // infeasible and that third of the fleet would never be placed: D* is searched instead.
    const hca = { ...(t.spec.hca as object), cutoff: "auto" };
    return {
      apiVersion,
      kind: "OCACluster",
      metadata: { name, namespace, labels: { "cdn.edgefleet.dev/region": region } },
      spec: {
        ...t.spec,
        region,
        site: { ...(t.spec.site as object), asn },
        servers,
        prefixes: [
          { cidr: `${ipv4(base)}/21`, asPath: [asn], med: 0, localPref: 200 },
          { cidr: `2001:db8:${(0x4000 + i).toString(16)}::/48`, asPath: [asn], med: 0, localPref: 200 },
        ],
        fill: { ...fill, sources: { ...fill.sources, peers: [] } },
        hca,
      },
    };
  });
}

/** Server j of cluster i (its n-th of its class): s01…, f01…, on its own node and addresses. */
function server(cluster: string, i: number, j: number, cls: "storage" | "flash", n: number): ServerSpec {
  const srv = `${cls === "flash" ? "f" : "s"}${String(n).padStart(2, "0")}`;
  return {
    name: srv,
    node: `oca-${cluster}-${srv}`,
    class: cls,
    ipv4: ipv4(((100 << 24) | (64 << 16)) + i * 2048 + 16 + j),
    ipv6: `2001:db8:${(0x4000 + i).toString(16)}::${(0x11 + j).toString(16)}`,
  };
}

/**
 * Cluster `c` (the i-th of benchClusters) with one more storage server, and that server's kwok Node:
 * what the "one server added" phase applies.
 */
export function withAddedServer(c: KubeObject, i: number): { cluster: KubeObject; node: KubeObject } {
  const spec = c.spec as Spec & { servers: ServerSpec[] };
  const storage = spec.servers.filter((s) => s.class === "storage").length;
  const added = server(c.metadata.name, i, spec.servers.length, "storage", storage + 1);
  const cluster = { ...c, spec: { ...spec, servers: [...spec.servers, added] } };
  const [node] = benchNodes([{ ...cluster, spec: { servers: [added] } }]);
  if (!node) throw new Error("withAddedServer: no node made");
  return { cluster, node };
}

/** The kwok Nodes the clusters' servers run on. */
export function benchNodes(clusters: readonly KubeObject[]): KubeObject[] {
  return clusters.flatMap((c) =>
    (c.spec as { servers: ServerSpec[] }).servers.map((s) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: s.node, labels: { "edgefleet.dev/bench": "operator" } },
      status: {
        allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
        capacity: { cpu: "32", memory: "256Gi", pods: "110" },
      },
    })),
  );
}

/** [resolution, height label, VMAF ceiling, kbps at which a rendition reaches 63% of it] */
const resolutions = {
  "416x234": [234, 48, 160],
  "640x360": [360, 62, 300],
  "960x540": [540, 76, 650],
  "1280x720": [720, 86, 1100],
  "1920x1080": [1080, 93, 1900],
  "3840x2160": [2160, 97, 4800],
} as const;
type Res = keyof typeof resolutions;
const h264: [Res, number][] = [
  ["416x234", 235],
  ["640x360", 750],
  ["960x540", 1750],
  ["1280x720", 3000],
  ["1920x1080", 4300],
  ["1920x1080", 5800],
];
const hevc: [Res, number][] = [
  ["960x540", 900],
  ["1280x720", 1600],
  ["1920x1080", 3000],
  ["3840x2160", 8000],
];

/**
 * T Titles of 13 files each (6 h264 and 4 hevc renditions, 2 AAC tracks, 1 WebVTT), about 3 KB of
 * JSON: the samples' 27-file ladders cut down so 10,000 apply in seconds. VMAF saturates per resolution
 * and varies with each title's complexity; bytes = bitrate × duration. 15% are licensed in one region.
 */
export function benchTitles(t: number, namespace: string, seed = 1): KubeObject[] {
  const rng = new Rng(seed);
  return Array.from({ length: t }, (_, i) => {
    const id = `title-${String(i + 1).padStart(5, "0")}`;
    const durationSeconds = 1200 + Math.floor(rng.next() * 7200);
    const complexity = 0.7 + rng.next() * 0.6;
    const r = rng.next();
    const titleRegions = r < 0.075 ? [regions[0]] : r < 0.15 ? [regions[1]] : [...regions];
    const file = (path: string, kbps: number, extra: object) => ({
      path: `${id}/${path}`,
      bytes: kbps * 125 * durationSeconds,
      sha256: createHash("sha256").update(`${id}/${path}`).digest("hex"),
      ...extra,
      bitrateKbps: kbps,
    });
    const video =
      (codec: string, efficiency: number) =>
      ([res, kbps]: [Res, number]) => {
        const [height, ceiling, scale] = resolutions[res];
        const vmaf = ceiling * (1 - Math.exp(-(kbps * efficiency) / (scale * complexity)));
        return file(`video/${codec}/${height}p-${kbps}k.mp4`, kbps, {
          kind: "video",
          codec,
          resolution: res,
          vmaf: Math.round(vmaf * 100) / 100,
        });
      };
    return {
      apiVersion,
      kind: "Title",
      metadata: { name: id, namespace },
      spec: {
        id,
        regions: titleRegions,
        durationSeconds,
        files: [
          ...h264.map(video("h264", 1)),
          ...hevc.map(video("hevc", 1.6)),
          file("audio/aac-64k-en.mp4", 64, { kind: "audio", codec: "aac" }),
          file("audio/aac-128k-en.mp4", 128, { kind: "audio", codec: "aac" }),
          file("text/en.vtt", 1, { kind: "text", codec: "webvtt" }),
        ],
      },
    };
  });
}

/**
 * The region's demand: Zipf(α) plays over a seeded permutation of the titles licensed there, the
 * head at 1.84M plays as in the samples, capped at the 15,000 most played (the Popularity limit).
 * `day` > 1 drifts each title's plays by log-normal noise (σ = 0.5) and moves 1% of the titles, new
 * releases, from the tail into the top 100.
 */
export function benchPopularity(
  region: string,
  titles: readonly KubeObject[],
  namespace: string,
  opts: { alpha?: number; day?: number } = {},
): KubeObject {
  const alpha = opts.alpha ?? 0.9;
  const day = opts.day ?? 1;
  const rng = new Rng(region.length * 7919 + region.charCodeAt(0));
  const ids = titles
    .filter((t) => (t.spec as { regions: string[] }).regions.includes(region))
    .map((t) => (t.spec as { id: string }).id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [ids[i], ids[j]] = [ids[j] as string, ids[i] as string];
  }
  let plays = ids.map((id, rank) => ({ id, n: 1.84e6 / (rank + 1) ** alpha }));
  const drift = new Rng(day * 104729 + region.charCodeAt(0));
  for (let d = 2; d <= day; d++) {
    plays = plays.map((p) => ({ id: p.id, n: p.n * Math.exp(0.5 * drift.normal()) }));
    const releases = Math.ceil(plays.length / 100);
    for (let k = 0; k < releases; k++) {
      const from = plays.length - 1 - Math.floor(drift.next() * (plays.length / 2));
      const to = Math.floor(drift.next() * Math.min(100, plays.length));
      const p = plays[from];
      const target = plays[to];
      if (p && target) p.n = target.n * (1 + drift.next());
    }
  }
  plays.sort((a, b) => b.n - a.n);
  const demand: Record<string, number> = {};
  for (const p of plays.slice(0, maxPopularityTitles)) demand[p.id] = Math.max(1, Math.round(p.n));
  return {
    apiVersion,
    kind: "Popularity",
    metadata: { name: region, namespace },
    spec: { region, catalogGeneration: `bench-day-${day}`, demand },
  };
}
