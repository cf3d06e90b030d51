import { isStale } from "../api/heartbeat.js";
import { greatCircleKm } from "./geo.js";
import type { IpAddress } from "./ip.js";
import type { ClusterHealth, ClusterView, LatLon } from "./snapshot.js";
import {
  A_CLUSTER,
  A_LOCAL_PREF,
  A_MED,
  A_NEIGHBOUR_AS,
  A_PATH_LENGTH,
  A_PREFIX,
  ATTRS,
  type SteeringIndex,
} from "./steering-index.js";

export type HealthPolicy = Readonly<{
  /** A cluster at or above this load (0..1) is saturated and drops out. */
  saturationLoad: number;
}>;

export type RankInput = Readonly<{
  index: SteeringIndex;
  health: ReadonlyMap<string, ClusterHealth>;
  policy: HealthPolicy;
  nowMs: number;
  address: IpAddress;
  /** Where the client is, from a geo source or the region's default; without it distance ties. */
  clientLocation?: LatLon | undefined;
}>;

/** Why a cluster is where it is: its longest announced prefix that matches the client, if any. */
export type Match = Readonly<{
  /** The prefix as the cluster announces it. */
  cidr: string;
  length: number;
  localPref: number;
  asPathLength: number;
  /** First AS of the path, or the site's own peer AS for an empty path: MEDs compare only within it. */
  neighbourAs: number;
  med: number;
}>;

export type RankedCluster = Readonly<{
  cluster: ClusterView;
  /** Absent when no available cluster's prefix matched and ranking fell back to distance. */
  match?: Match | undefined;
  distanceKm?: number | undefined;
  load: number;
}>;

export type Ranking = Readonly<{ by: "prefix" | "distance"; clusters: readonly RankedCluster[] }>;

/**
 * Orders the available clusters for one client address (DESIGN.md decision 4):
 * longest match → higher local preference → shorter AS path → lower MED (only between announcements
 * from the same neighbour AS) → shorter great-circle distance → lower load → name. Clusters without a
 * live server (every server's heartbeat stale or missing: ClusterHealth.expiresAtMs passed, or no
 * health at all), saturated ones and ones without servers are left out. Which servers of a ranked
 * cluster are live is for the manifest to check (liveness.ts). When no available cluster announces a
 * prefix that matches, all available clusters are ranked by distance, then load, then name.
 * Pure: time comes in as `nowMs`.
 */
export function rankClusters(input: RankInput): Ranking {
  const { index, address } = input;
  const available = (ci: number): { cluster: ClusterView; load: number } | undefined => {
    const cluster = index.clusters[ci];
    if (cluster === undefined || cluster.servers.length === 0) return undefined;
    const h = input.health.get(cluster.name);
    if (h === undefined || isStale(h.expiresAtMs, input.nowMs)) return undefined;
    if (h.saturated === true || h.load >= input.policy.saturationLoad) return undefined;
    return { cluster, load: h.load };
  };
  const distanceTo = (c: ClusterView) =>
    input.clientLocation === undefined ? undefined : greatCircleKm(input.clientLocation, c.location);

  // Walk from the longest matching route to the shortest: the first route naming a cluster is its longest match.
  const matched: RankedCluster[] = [];
  const seen = new Set<number>();
  const routes = address.family === 4 ? index.routes4 : index.routes6;
  let r = address.family === 4 ? index.v4.lookup(address.words[0]) : index.v6.lookup(...address.words);
  const { ann } = routes;
  while (r >= 0 && r < routes.count) {
    for (let o = (routes.first[r] ?? 0) * ATTRS; o < (routes.first[r + 1] ?? 0) * ATTRS; o += ATTRS) {
      const ci = ann[o + A_CLUSTER] ?? 0;
      if (seen.has(ci)) continue;
      seen.add(ci);
      const a = available(ci);
      if (a === undefined) continue;
      const match: Match = {
        cidr: a.cluster.prefixes[ann[o + A_PREFIX] ?? 0]?.cidr ?? "",
        length: routes.length[r] ?? 0,
        localPref: ann[o + A_LOCAL_PREF] ?? 0,
        asPathLength: ann[o + A_PATH_LENGTH] ?? 0,
        neighbourAs: ann[o + A_NEIGHBOUR_AS] ?? 0,
        med: ann[o + A_MED] ?? 0,
      };
      matched.push({ cluster: a.cluster, match, distanceKm: distanceTo(a.cluster), load: a.load });
    }
    r = routes.parent[r] ?? -1;
  }
  if (matched.length > 0) return { by: "prefix", clusters: orderMatched(matched) };

  const all: RankedCluster[] = [];
  for (const ci of index.clusters.keys()) {
    const a = available(ci);
    if (a !== undefined) all.push({ cluster: a.cluster, distanceKm: distanceTo(a.cluster), load: a.load });
  }
  return { by: "distance", clusters: all.sort(compareTail) };
}

/** Distance, then load, then name: the rules after the BGP ones, and the deterministic tie-break. */
function compareTail(a: RankedCluster, b: RankedCluster): number {
  return (
    (a.distanceKm ?? 0) - (b.distanceKm ?? 0) ||
    a.load - b.load ||
    (a.cluster.name < b.cluster.name ? -1 : a.cluster.name > b.cluster.name ? 1 : 0)
  );
}

function bgpKey(m: Match | undefined): [number, number, number] {
  return m === undefined ? [0, 0, 0] : [-m.length, -m.localPref, m.asPathLength];
}

/**
 * MED is not transitive across neighbour ASes (A < B by MED, B < C by distance, C < A by distance), so
 * a single comparator cannot sort it. Within each tie of (length, local preference, path length):
 * order each neighbour AS's announcements by MED, then merge those chains by distance, load and name.
 * This is BGP's "deterministic MED" and gives the same order whatever the input order.
 */
function orderMatched(matched: RankedCluster[]): RankedCluster[] {
  const sorted = [...matched].sort((a, b) => {
    const [x, y] = [bgpKey(a.match), bgpKey(b.match)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || compareTail(a, b);
  });
  const out: RankedCluster[] = [];
  for (let i = 0; i < sorted.length; ) {
    const key = bgpKey(sorted[i]?.match).join();
    let j = i;
    while (j < sorted.length && bgpKey(sorted[j]?.match).join() === key) j++;
    out.push(...mergeByNeighbour(sorted.slice(i, j)));
    i = j;
  }
  return out;
}

function mergeByNeighbour(group: RankedCluster[]): RankedCluster[] {
  const chains = new Map<number, RankedCluster[]>();
  for (const c of group) {
    const as = c.match?.neighbourAs ?? 0;
    chains.set(as, [...(chains.get(as) ?? []), c]);
  }
  const ordered = [...chains.values()].map((chain) =>
    chain.sort((a, b) => (a.match?.med ?? 0) - (b.match?.med ?? 0) || compareTail(a, b)),
  );
  const out: RankedCluster[] = [];
  while (out.length < group.length) {
    let best: RankedCluster[] | undefined;
    for (const chain of ordered) {
      const head = chain[0];
      const bestHead = best?.[0];
      if (head !== undefined && (bestHead === undefined || compareTail(head, bestHead) < 0)) best = chain;
    }
    const next = best?.shift();
    if (next === undefined) break;
    out.push(next);
  }
  return out;
}
