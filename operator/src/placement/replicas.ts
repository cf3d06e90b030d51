import { replicaPosition } from "./hash.js";
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
 * replicas of about R ÷ `HCA.pieces`, whatever the number of servers (the playback API spreads a file's
 * requests evenly over its holders). Replicas go to distinct servers, so a ring whose largest weight is w takes at most about
 * 1 ÷ (2w) of them: every server then catches replicas in proportion to its weight, and a server with a
 * sliver of the ring is never forced to hold one. Nor are there more replicas than servers whose cap is
 * at least twice a replica's traffic. Extra replicas may use the storage each ring's servers have past
 * their expected share of the stored set but half the fill headroom, which stays free for spills
 * (`replicaRoom`); when that room is short, the pieces are coarsened until the copies fit, so every hot
 * file keeps pieces of the same size rather than the hottest taking all the room and the next ones none,
 * but never past `maxPiece`.
 *
 * No count jumps for every hot file at once when one server joins or leaves: the piece size does not
 * depend on the number of servers (it was R ÷ (400·m′), m′ = m rounded up to a power of two: at 128 + 1
 * servers every hot file's count doubled, 119 TB of new copies for a 2 TB server, add churn 57× ideal
 * in bench:placement --mixes random:12), and each file rounds its piece count t/piece and the ring's
 * limit 1/(2w) up or down by its own hashed fraction (`rounding`), so a change of δ in the weights
 * changes the counts of about a fraction δ of the files (the limit was a power of two too: 26 servers
 * with one more flash server doubled it, 5.9× ideal).
 * Both `planHca` (to calibrate tokens) and `assign` call this, so they agree on every piece.
 */
export function replicaCounts(
  catalog: readonly CatalogFile[],
  positions: Float64Array,
  set: StoredSet,
  servers: readonly Server[],
  cutoff: number,
  caps: Float64Array,
  rings: readonly [head: ArrayLike<number>, tail: ArrayLike<number>],
): Uint16Array {
  const limit = [replicaLimit(rings[0]), replicaLimit(rings[1])] as const;
  const onRing = [serversOnRing(rings[0]), serversOnRing(rings[1])];
  const desc = caps.slice().sort().reverse();
  const chunk = set.traffic / HCA.pieces;
  const room = replicaRoom(catalog, set, servers, cutoff, rings);
  const counts = new Uint16Array(set.count).fill(1);
  if (!(chunk > 0)) return counts;
  // The replicas file i would get with pieces of about `piece`.
  const wanted = (i: number, piece: number): number => {
    const t = fileTraffic(catalog[i] as CatalogFile);
    const u = rounding(positions[i] ?? 0);
    const ring = i < cutoff ? 0 : 1;
    const capped = Math.max(1, Math.floor((limit[ring] ?? 1) + u));
    // A file hotter than half the largest cap is split over two servers even on a lopsided ring.
    const most = t > (desc[0] ?? 0) / 2 ? Math.max(capped, Math.min(2, onRing[ring] ?? 1)) : capped;
    let k = Math.min(most, Math.max(1, Math.floor(t / piece + u)));
    while (k > 1 && serversWithCap(desc, (2 * t) / k) < k) k--;
    return k;
  };
  for (const ring of [0, 1] as const) {
    const hot: number[] = [];
    const [from, to] = ring === 0 ? [0, Math.min(cutoff, set.count)] : [Math.min(cutoff, set.count), set.count];
    for (let i = from; i < to; i++) if (fileTraffic(catalog[i] as CatalogFile) > chunk) hot.push(i);
    // The finest pieces whose extra copies fit the ring's room (the cost falls as pieces grow):
    // the room goes to every hot file alike, not all to the hottest.
    const cost = (c: number) => hot.reduce((x, i) => x + (wanted(i, c) - 1) * (catalog[i] as CatalogFile).bytes, 0);
    const coarsest = maxPiece(caps, rings[ring]);
    // Doubling steps from a fixed `chunk`: the piece changes only when the room crosses a step, so a
    // server joining (more room) seldom changes a count (a continuous search re-split the hot files on
    // every join: 200k files, default mix, add churn 1.94× ideal).
    let piece = chunk;
    while (hot.length > 0 && piece < coarsest && cost(piece) > (room[ring] ?? 0)) piece *= 2;
    piece = Math.min(piece, coarsest);
    for (const i of hot) counts[i] = wanted(i, piece);
  }
  return counts;
}

/** A file's own rounding fraction in [0, 1), from its key position: independent of its ring position. */
function rounding(position: number): number {
  return replicaPosition(position, ROUNDING_SEED) / 2 ** 52;
}

const ROUNDING_SEED = 0x6a09e667;

/**
 * Bytes of extra replicas each ring can take. A ring's replicas land on its servers in proportion to
 * their weights w_j, so the ring takes at most min_j room_j ÷ w_j, where room_j is what server j has
 * left, in expectation, once it holds its share of both rings' files, keeping half the fill headroom
 * free for spills. Counting the whole cluster's room instead let the hot files' replicas fill the
 * head ring's small disks: at 200k files on a fifth of the default storage the flash servers were full
 * and the storage servers took the head's spills, 32 % over their traffic share.
 */
function replicaRoom(
  catalog: readonly CatalogFile[],
  set: StoredSet,
  servers: readonly Server[],
  cutoff: number,
  rings: readonly [head: ArrayLike<number>, tail: ArrayLike<number>],
): [number, number] {
  let headBytes = 0;
  for (let i = 0; i < Math.min(cutoff, set.count); i++) headBytes += catalog[i]?.bytes ?? 0;
  const share = rings.map((w) => {
    let sum = 0;
    for (let j = 0; j < w.length; j++) sum += w[j] ?? 0;
    return Float64Array.from({ length: w.length }, (_, j) => (sum > 0 ? (w[j] ?? 0) / sum : 0));
  });
  const [head, tail] = share as [Float64Array, Float64Array];
  const usable = 1 - (1 - HCA.fillLimit) / 2;
  const room: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  servers.forEach((s, j) => {
    const h = head[j] ?? 0;
    const t = tail[j] ?? 0;
    const left = Math.max(0, usable * s.storageBytes - h * headBytes - t * (set.bytes - headBytes));
    if (h > 0) room[0] = Math.min(room[0], left / h);
    if (t > 0) room[1] = Math.min(room[1], left / t);
  });
  return [Number.isFinite(room[0]) ? room[0] : 0, Number.isFinite(room[1]) ? room[1] : 0];
}

/**
 * The coarsest piece, room or not: 1/16 of the smallest cap on the ring. Where the room is short (small
 * catalogs at the default catalog-to-storage ratio: 100k files leave a flash server 1.8 TB), coarsening
 * without this left a new release's hot files whole, one carrying 88 % of a server's traffic; the next
 * day it doubled. The copies past the room use the fill headroom's other half. bench:placement, 100k
 * files, α 0.8: next-day peak/mean 1.105/1.117 → 1.061/1.069, add churn 3.78 → 1.63× ideal.
 */
function maxPiece(caps: Float64Array, weights: ArrayLike<number>): number {
  let least = Number.POSITIVE_INFINITY;
  for (let j = 0; j < weights.length; j++) if ((weights[j] ?? 0) > 0) least = Math.min(least, caps[j] ?? 0);
  return least / 16;
}

/** About 1 ÷ (2 × the largest weight) replicas on a ring with these weights (token counts or shares). */
function replicaLimit(weights: ArrayLike<number>): number {
  let sum = 0;
  let max = 0;
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j] ?? 0;
    sum += w;
    max = Math.max(max, w);
  }
  return max > 0 ? sum / (2 * max) : 1;
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
