/**
 * The traffic bound of a cutoff (README, "Choosing D*", no feasible D). At cutoff D the
 * balance equations ask every server for traffic τ_j·R and at most c·S_j bytes; when the servers with
 * the throughput lack the storage to hold enough of the hot files, no shares meet both. Then the best
 * any placement can do is the least λ ≥ 1 for which shares exist with traffic ≤ λ·τ_j·R and bytes
 * ≤ c·S_j. `planHca` picks the cutoff with the least λ, and `assign` raises its caps by the same λ,
 * which it recomputes from the catalog, so the plan needs no extra field.
 */
import { fileTraffic, HCA } from "./stored.js";
import type { CatalogFile } from "./types.js";

/** Ranked-prefix sums of stored bytes and traffic. */
export type Prefix = Readonly<{ bytes: Float64Array; traffic: Float64Array }>;

export function prefixSums(catalog: readonly CatalogFile[], count: number): Prefix {
  const bytes = new Float64Array(count + 1);
  const traffic = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) {
    const f = catalog[i];
    if (f === undefined) break;
    bytes[i + 1] = (bytes[i] ?? 0) + f.bytes;
    traffic[i + 1] = (traffic[i] ?? 0) + fileTraffic(f);
  }
  return { bytes, traffic };
}

/**
 * The sums `leastBound` needs at one cutoff only (bytes and traffic of the head and of the stored set),
 * as a three-entry prefix and the cutoff's index in it: one pass and no per-file arrays, for `assign`.
 */
export function cutPrefix(
  catalog: readonly CatalogFile[],
  count: number,
  D: number,
): { prefix: Prefix; cutoff: number } {
  const bytes = new Float64Array(3);
  const traffic = new Float64Array(3);
  for (let i = 0; i < count; i++) {
    const f = catalog[i] as CatalogFile;
    const k = i < D ? 1 : 2;
    bytes[k] = (bytes[k] ?? 0) + f.bytes;
    traffic[k] = (traffic[k] ?? 0) + fileTraffic(f);
  }
  bytes[2] = (bytes[1] ?? 0) + (bytes[2] ?? 0);
  traffic[2] = (traffic[1] ?? 0) + (traffic[2] ?? 0);
  return { prefix: { bytes, traffic }, cutoff: D <= 0 ? 0 : D >= count ? 2 : 1 };
}

export type Shares = { head: Float64Array; tail: Float64Array };

const BISECTIONS = 32;

/**
 * Head shares h and tail shares t with Σh = 1 (no head when D is 0 or the whole set), traffic
 * h·R_H + t·R_T ≤ λ·τ_j·R and bytes h·B_H + t·B_T ≤ c·S_j, maximising Σt; Σt ≥ 1 means λ is
 * achievable. Each server's largest t is a concave function of its h (the lower of its two
 * constraint lines), so taking h in order of the least tail lost per unit of head is optimal.
 */
export function widestTail(D: number, lambda: number, p: Prefix, storage: Float64Array, tau: Float64Array): Shares {
  const n = p.bytes.length - 1;
  const B = p.bytes[n] ?? 0;
  const R = p.traffic[n] ?? 0;
  const BH = p.bytes[Math.min(D, n)] ?? 0;
  const RH = p.traffic[Math.min(D, n)] ?? 0;
  const BT = B - BH;
  const RT = R - RH;
  const m = storage.length;
  const head = new Float64Array(m);
  const tail = new Float64Array(m);
  // t ≤ (cap − a·h) / b for the traffic line (a = R_H, b = R_T) and the bytes line (a = B_H, b = B_T).
  const lineAt = (cap: number, a: number, b: number, h: number) =>
    b > 0 ? (cap - a * h) / b : cap - a * h >= 0 ? Number.POSITIVE_INFINITY : -1;
  const segments: { j: number; from: number; to: number; slope: number }[] = [];
  for (let j = 0; j < m; j++) {
    const A = lambda * (tau[j] ?? 0) * R;
    const C = HCA.fillLimit * (storage[j] ?? 0);
    const tOf = (h: number) => Math.max(0, Math.min(lineAt(A, RH, RT, h), lineAt(C, BH, BT, h)));
    tail[j] = tOf(0);
    if (BH <= 0) continue;
    const hMax = Math.min(RH > 0 ? A / RH : Number.POSITIVE_INFINITY, C / BH, 1);
    // Where the two lines cross, the slope steepens (concavity); the slopes are each segment's chord.
    const cross = RT > 0 && BT > 0 ? (A / RT - C / BT) / (RH / RT - BH / BT) : Number.NaN;
    const cuts = cross > 0 && cross < hMax ? [0, cross, hMax] : [0, hMax];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const from = cuts[k] ?? 0;
      const to = cuts[k + 1] ?? 0;
      if (to > from) segments.push({ j, from, to, slope: (tOf(to) - tOf(from)) / (to - from) });
    }
  }
  if (BH <= 0) return { head, tail };
  segments.sort((x, y) => y.slope - x.slope || x.j - y.j || x.from - y.from);
  let left = 1;
  for (const s of segments) {
    if (left <= 0) break;
    const take = Math.min(left, s.to - s.from);
    head[s.j] = (head[s.j] ?? 0) + take;
    tail[s.j] = (tail[s.j] ?? 0) + s.slope * take;
    left -= take;
  }
  // Not enough head room at this λ: report it as no tail at all.
  if (left > 1e-12) tail.fill(0);
  return { head, tail };
}

function tailSum(s: Shares): number {
  let t = 0;
  for (const x of s.tail) t += Math.max(0, x);
  return t;
}

/** Shares at cutoff D and an achievable λ: `widestTail`'s, with the tail scaled to sum to 1. */
export function boundedShares(D: number, lambda: number, p: Prefix, storage: Float64Array, tau: Float64Array): Shares {
  const shares = widestTail(D, lambda, p, storage, tau);
  const sum = tailSum(shares);
  shares.tail.forEach((t, j) => {
    shares.tail[j] = Math.max(0, t) / sum;
  });
  return shares;
}

/** The least λ ≥ 1 achievable at cutoff D (1 when the balance equations are feasible there). */
export function leastBound(D: number, p: Prefix, storage: Float64Array, tau: Float64Array): number {
  const feasible = (lambda: number) => tailSum(widestTail(D, lambda, p, storage, tau)) >= 1 - 1e-9;
  if (feasible(1)) return 1;
  // A server carrying everything needs λ = 1/τ_j, so 1/min τ always has traffic room; storage fits the set.
  let hi = 1;
  for (const t of tau) hi = Math.max(hi, 1 / t);
  if (!feasible(hi)) return Number.POSITIVE_INFINITY;
  let lo = 1;
  for (let k = 0; k < BISECTIONS; k++) {
    const mid = (lo + hi) / 2;
    if (feasible(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
