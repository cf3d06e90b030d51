import { fileTraffic, HCA, type StoredSet } from "./stored.js";
import type { CatalogFile, Server } from "./types.js";

/**
 * The bounded-load pass's traffic cap of each server: (1 + ε)·λ·τ_j·R over both rings, R the stored
 * set's traffic and λ the cutoff's traffic bound (1 when it balances traffic, bound.ts). That is the
 * balance constraint itself, so the pass never spills a file that the server's throughput could carry.
 */
export function trafficCaps(servers: readonly Server[], traffic: number, bound: number): Float64Array {
  const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  return Float64Array.from(
    servers,
    (s) => ((1 + HCA.loadBound) * bound * s.throughputBitsPerSec * traffic) / throughput,
  );
}

/**
 * How many replicas each stored file gets, given the pass's traffic caps. Caps sum to at least
 * (1 + ε)·R, so some server always has room for a piece of ε·R/m: the hottest files are split into
 * replicas of at most R ÷ (piecesPerServer·m′), m′ = m rounded up to a power of two (the playback API
 * spreads a file's requests evenly over its holders). Replicas go to distinct servers, so a ring whose
 * largest weight is w takes at most 1 ÷ (2w) of them, rounded down to a power of two: every server then
 * catches replicas in proportion to its weight, and a server with a sliver of the ring is never forced
 * to hold one. Nor are there more replicas than servers whose cap is at least twice a replica's
 * traffic. Extra replicas may use the storage past the stored set but half the fill headroom, which
 * stays free for spills. Both `planHca` (to calibrate tokens) and `assign` call this, so they agree on
 * every piece.
 */
export function replicaCounts(
  catalog: readonly CatalogFile[],
  set: StoredSet,
  servers: readonly Server[],
  cutoff: number,
  caps: Float64Array,
  rings: readonly [head: ArrayLike<number>, tail: ArrayLike<number>],
): Uint16Array {
  const limit = [replicaLimit(rings[0]), replicaLimit(rings[1])] as const;
  const onRing = [serversOnRing(rings[0]), serversOnRing(rings[1])];
  const desc = caps.slice().sort().reverse();
  // m rounded up to a power of two: adding or removing a server then seldom changes a replica count.
  const chunk = set.traffic / (HCA.piecesPerServer * 2 ** Math.ceil(Math.log2(servers.length)));
  const capacity = servers.reduce((x, s) => x + s.storageBytes, 0);
  let bytesLeft = capacity - set.bytes - ((1 - HCA.fillLimit) / 2) * capacity;
  const counts = new Uint16Array(set.count).fill(1);
  for (let i = 0; i < set.count; i++) {
    const f = catalog[i] as CatalogFile;
    const t = fileTraffic(f);
    if (chunk <= 0 || t <= chunk) continue;
    // A file hotter than a whole server's cap is split over two servers even on a lopsided ring.
    const ring = i < cutoff ? 0 : 1;
    const most =
      t > (desc[0] ?? 0) / 2 ? Math.max(limit[ring] ?? 1, Math.min(2, onRing[ring] ?? 1)) : (limit[ring] ?? 1);
    let k = Math.min(most, Math.ceil(t / chunk));
    while (k > 1 && serversWithCap(desc, (2 * t) / k) < k) k--;
    k = Math.max(1, Math.min(k, 1 + Math.floor(bytesLeft / f.bytes)));
    bytesLeft -= (k - 1) * f.bytes;
    counts[i] = k;
  }
  return counts;
}

/** At most 1 ÷ (2 × the largest weight) replicas on a ring with these weights (token counts or shares). */
function replicaLimit(weights: ArrayLike<number>): number {
  let sum = 0;
  let max = 0;
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j] ?? 0;
    sum += w;
    max = Math.max(max, w);
  }
  // Rounded down to a power of two, so that calibrating the counts by a few per cent seldom changes it.
  return max > 0 ? 2 ** Math.floor(Math.log2(Math.max(1, sum / (2 * max)))) : 1;
}

/** Servers with a positive weight on a ring. */
export function serversOnRing(weights: ArrayLike<number>): number {
  let n = 0;
  for (let j = 0; j < weights.length; j++) if ((weights[j] ?? 0) > 0) n++;
  return n;
}

/** How many of the caps (sorted descending) are at least `x`. */
function serversWithCap(desc: Float64Array, x: number): number {
  let lo = 0;
  let hi = desc.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((desc[mid] ?? 0) >= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
