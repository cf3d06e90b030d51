import { boundedShares, leastBound, type Prefix, prefixSums } from "./bound.js";
import { calibrate, ringPieces, TokenUniverse } from "./calibrate.js";
import { replicaCounts, trafficCaps } from "./replicas.js";
import { HCA, type StoredSet, storedSet } from "./stored.js";
import {
  type CatalogFile,
  InfeasiblePlacementError,
  PlacementInputError,
  type Plan,
  type Server,
  type ServerTokens,
} from "./types.js";
import { canonicalServers, keyPositions, validateCatalog, validPlan } from "./validate.js";

export type PlanInput = Readonly<{
  cluster: string;
  /** Defaults to `catalogFingerprint(catalog)`. */
  catalogGeneration?: string;
  servers: readonly Server[];
  catalog: readonly CatalogFile[];
  /** "auto" searches D*; an integer fixes it (it must be feasible). */
  cutoff?: "auto" | number;
  /**
   * Relative slack on the balance objective inside which the least-churn cutoff wins, and inside
   * which the previous cutoff is kept. Default 0.02.
   */
  hysteresis?: number;
  previous?: Plan;
  /**
   * Bytes one server can fetch in one night's fill (its bandwidth cap × the fill window). Re-calibrating
   * the token counts of servers already in `previous` moves at most a quarter of it; the rest is left for
   * what popularity drift moves. Default: unbounded.
   */
  fillBudgetBytes?: number;
}>;

export type ServerExpectation = Readonly<{
  name: string;
  /** Fraction of the head ring's hash space (and so of head bytes and traffic, in expectation). */
  headShare: number;
  tailShare: number;
  expectedBytes: number;
  /** expectedBytes ÷ storageBytes. */
  expectedUse: number;
  /** Expected fraction of the cluster's traffic; equals the throughput share when feasible. */
  trafficShare: number;
}>;

export type PlanExpectations = Readonly<{
  /** False when no cutoff balances traffic; the plan then takes the cutoff with the least traffic bound. */
  feasible: boolean;
  /** λ: no server is meant to carry more than λ × its throughput share; 1 when feasible (bound.ts). */
  trafficBound: number;
  storedFiles: number;
  storedBytes: number;
  storedTraffic: number;
  /** max over servers of expected bytes ÷ storage: the balance objective. */
  maxExpectedUse: number;
  /** Smallest and largest feasible cutoff among the candidates examined; [0, 0] when none. */
  feasibleCutoffs: readonly [number, number];
  servers: readonly ServerExpectation[];
}>;

export type PlanResult = Readonly<{ plan: Plan; expectations: PlanExpectations }>;

/** `bound`: each server carries at most bound × τ_j·R; 1 when the cutoff balances traffic. */
type Solution = { cutoff: number; use: number; head: Float64Array; tail: Float64Array; bound: number };

const GRID = 256;
const BISECTIONS = 64;
/** leastPeak's coarse scan takes every STRIDE-th candidate cutoff. */
const STRIDE = 8;

/**
 * Solves the cutoff-D problem of README.md: expected bytes s_j ∈ [τ_j·R/ρ_H, min(c·S_j, τ_j·R/ρ_T)],
 * Σ s_j = B, minimising max s_j/S_j by water-filling s_j = clamp(u·S_j, L_j, U_j). Undefined if infeasible.
 */
function solve(D: number, p: Prefix, storage: Float64Array, tau: Float64Array): Solution | undefined {
  const n = p.bytes.length - 1;
  const B = p.bytes[n] ?? 0;
  const R = p.traffic[n] ?? 0;
  const BH = p.bytes[D] ?? 0;
  const RH = p.traffic[D] ?? 0;
  const BT = B - BH;
  const RT = R - RH;
  const den = BT * RH - BH * RT;
  if (BH <= 0 || BT <= 0 || RH <= 0 || RT <= 0 || den <= 0) return undefined;
  const m = storage.length;
  const lo = new Float64Array(m);
  const hi = new Float64Array(m);
  let sumLo = 0;
  let sumHi = 0;
  let uMax = 0;
  for (let j = 0; j < m; j++) {
    const S = storage[j] ?? 0;
    const t = (tau[j] ?? 0) * R;
    const l = (t * BH) / RH;
    const h = Math.min(HCA.fillLimit * S, (t * BT) / RT);
    if (l > h) return undefined;
    lo[j] = l;
    hi[j] = h;
    sumLo += l;
    sumHi += h;
    uMax = Math.max(uMax, h / S);
  }
  if (sumLo > B || sumHi < B) return undefined;
  let a = 0;
  let b = uMax;
  for (let k = 0; k < BISECTIONS; k++) {
    const u = (a + b) / 2;
    let g = 0;
    for (let j = 0; j < m; j++) g += Math.min(hi[j] ?? 0, Math.max(lo[j] ?? 0, u * (storage[j] ?? 0)));
    if (g < B) a = u;
    else b = u;
  }
  const head = new Float64Array(m);
  const tail = new Float64Array(m);
  let use = 0;
  for (let j = 0; j < m; j++) {
    const s = Math.min(hi[j] ?? 0, Math.max(lo[j] ?? 0, b * (storage[j] ?? 0)));
    const t = (tau[j] ?? 0) * R;
    head[j] = Math.max(0, (t * BT - s * RT) / den);
    tail[j] = Math.max(0, (s * RH - t * BH) / den);
    use = Math.max(use, s / (storage[j] ?? 1));
  }
  return { cutoff: D, use, head, tail, bound: 1 };
}

/** Candidate cutoffs: a geometric grid over [1, n − 1] plus the ones the caller cares about. */
function candidates(n: number, extra: readonly number[]): number[] {
  const set = new Set<number>();
  if (n >= 2) {
    for (let g = 0; g <= GRID; g++) set.add(Math.min(n - 1, Math.max(1, Math.round((n - 1) ** (g / GRID)))));
  }
  for (const d of extra) if (d >= 1 && d <= n - 1) set.add(d);
  return [...set].sort((x, y) => x - y);
}

function totalVariation(a: Float64Array, b: Float64Array): number {
  let tv = 0;
  for (let j = 0; j < a.length; j++) tv += Math.abs((a[j] ?? 0) - (b[j] ?? 0));
  return tv / 2;
}

function shares(tokens: readonly number[]): Float64Array {
  const sum = tokens.reduce((x, y) => x + y, 0);
  return Float64Array.from(tokens, (t) => (sum > 0 ? t / sum : 0));
}

/**
 * Expected bytes refilled to go from the previous plan to `s` (README, "Choosing D*"): ring shares
 * that change move about their total-variation distance of the ring's bytes, and files crossing the
 * cutoff move about TV(head, tail) of theirs.
 */
function churnCost(s: Solution, p: Prefix, prevD: number, prevHead: Float64Array, prevTail: Float64Array): number {
  const n = p.bytes.length - 1;
  const BH = p.bytes[s.cutoff] ?? 0;
  const BT = (p.bytes[n] ?? 0) - BH;
  const crossing = Math.abs(BH - (p.bytes[Math.min(prevD, n)] ?? 0));
  return (
    BH * totalVariation(s.head, prevHead) +
    BT * totalVariation(s.tail, prevTail) +
    crossing * totalVariation(s.head, s.tail)
  );
}

/**
 * Token counts to start calibration from. A server of the previous plan keeps its counts (0 on a ring
 * where it had none). A new server gets its share × K, where the scale K minimises Σ_j |K·x_j − prev_j|
 * over the servers in both (a weighted median of prev_j / x_j, weights x_j), so that adding a server
 * mostly adds its own tokens. A fresh plan uses `tokensPerServer` per server on average.
 */
function startTokens(
  share: Float64Array,
  names: readonly string[],
  previous: ReadonlyMap<string, number>,
  kept: Uint8Array,
): Int32Array {
  const fresh = HCA.tokensPerServer * names.length;
  const ratios: { r: number; w: number }[] = [];
  let weight = 0;
  names.forEach((name, j) => {
    const t = previous.get(name);
    const x = share[j] ?? 0;
    if (t !== undefined && t > 0 && x > 0) {
      ratios.push({ r: t / x, w: x });
      weight += x;
    }
  });
  ratios.sort((a, b) => a.r - b.r);
  let scale = fresh;
  let acc = 0;
  for (const { r, w } of ratios) {
    acc += w;
    if (acc >= weight / 2) {
      scale = Math.min(4 * fresh, Math.max(fresh / 4, r));
      break;
    }
  }
  return Int32Array.from(names, (name, j) => {
    if (kept[j] === 1) return previous.get(name) ?? 0;
    const x = share[j] ?? 0;
    return x > 0 ? Math.max(1, Math.round(x * scale)) : 0;
  });
}

type Tokens = { head: Int32Array; tail: Int32Array };

/**
 * Ring shares for servers joining a cluster whose cutoff stays (README, "Tokens"): joiner j takes the
 * share x_j of the head ring's keys and y_j of the tail's with x_j·R_H + y_j·R_T its traffic target.
 * With x_j = y_j = its share q_j of the traffic, every kept server loses the same fraction of both rings,
 * so its load falls exactly as its target does and none is re-calibrated: the joiners fetch their own
 * bytes and nothing else moves. A joiner that would then use more of its storage than the solution's
 * most used server takes more of the head (fewer bytes per unit of traffic) and less of the tail, down to y_j = 0; if even
 * that does not fit, the solution's shares are used. Undefined when nobody joined or the cutoff moved.
 */
function joinerShares(
  sol: Solution,
  input: Readonly<{ servers: readonly Server[]; set: StoredSet; prefix: Prefix }>,
  kept: Uint8Array,
  unit: Float64Array,
  previous: Readonly<{ cutoff: number | undefined }>,
): { head: Float64Array; tail: Float64Array } | undefined {
  if (previous.cutoff !== sol.cutoff || kept.every((k) => k === 1) || kept.every((k) => k === 0)) return undefined;
  const { servers, set, prefix } = input;
  const R = set.traffic;
  const RH = prefix.traffic[sol.cutoff] ?? 0;
  const BH = prefix.bytes[sol.cutoff] ?? 0;
  const RT = R - RH;
  const BT = set.bytes - BH;
  if (!(R > 0 && RH > 0 && RT > 0)) return undefined;
  const head = new Float64Array(servers.length);
  const tail = new Float64Array(servers.length);
  for (let j = 0; j < servers.length; j++) {
    if (kept[j] === 1) continue;
    const q = (unit[j] ?? 0) / R;
    // At most the solution's largest storage use (≤ fillLimit): a joiner filled to the limit left no
    // room for the hot files' replicas, and they collapsed to one copy (bench:placement, 200k files:
    // add churn 10.6× ideal).
    const room = Math.min(HCA.fillLimit, sol.use) * (servers[j]?.storageBytes ?? 0);
    let x = q;
    let y = q;
    if (q * (BH + BT) > room) {
      // Bytes at traffic q·R fall by (B_T − R_T·B_H/R_H) per unit of tail share moved to the head.
      const slope = BT - (RT * BH) / RH;
      y = slope > 0 ? Math.max(0, (room - (q * R * BH) / RH) / slope) : 0;
      x = (q * R - y * RT) / RH;
      if (x * BH + y * BT > room * (1 + 1e-9) || x > 1) return undefined;
    }
    head[j] = x;
    tail[j] = y;
  }
  return { head, tail };
}

/**
 * Calibrated head and tail tokens for solution `sol` (calibrate.ts): each ring's targets are the
 * solution's shares of that ring's traffic, measured on the same pieces `assign` will place.
 */
function calibratedTokens(
  sol: Solution,
  input: Readonly<{
    catalog: readonly CatalogFile[];
    servers: readonly Server[];
    names: readonly string[];
    set: StoredSet;
    prefix: Prefix;
  }>,
  previous: Readonly<{
    head: ReadonlyMap<string, number>;
    tail: ReadonlyMap<string, number>;
    cutoff: number | undefined;
    /** Servers in the previous plan. */
    names: number;
  }>,
  fillBudget: number,
): Tokens {
  const { catalog, servers, names, set } = input;
  const positions = keyPositions(catalog);
  const headTraffic = input.prefix.traffic[sol.cutoff] ?? 0;
  // Each server's traffic target: τ_j·R when the cutoff balances traffic, else what the bounded shares give.
  const unit = Float64Array.from(
    names,
    (_, j) => (sol.head[j] ?? 0) * headTraffic + (sol.tail[j] ?? 0) * (set.traffic - headTraffic),
  );
  const both = names.map((_, j) => (sol.head[j] ?? 0) > 0 && (sol.tail[j] ?? 0) > 0);
  // A quarter of the night's budget for corrections (crossings and drift need the rest), split over
  // the rings a server is on.
  const budget = Float64Array.from(both, (b) => fillBudget / 4 / (b ? 2 : 1));
  const tokens = new TokenUniverse(names);
  const kept = Uint8Array.from(names, (n) => ((previous.head.get(n) ?? 0) + (previous.tail.get(n) ?? 0) > 0 ? 1 : 0));
  const room = Float64Array.from(servers, (x) => HCA.fillLimit * x.storageBytes);
  const joiners = joinerShares(sol, input, kept, unit, previous);
  const run = (replicas: Uint16Array): Tokens => {
    const ring = (
      share: Float64Array,
      traffic: number,
      from: number,
      to: number,
      prev: ReadonlyMap<string, number>,
      joined: Float64Array | undefined,
    ) => {
      const target = Float64Array.from(share, (x) => x * traffic);
      let start = startTokens(share, names, prev, kept);
      if (joined) {
        // A joiner takes its share x_j of the ring's keys from the kept servers' tokens.
        let keptTokens = 0;
        let taken = 0;
        names.forEach((n, j) => {
          if (kept[j] === 1) keptTokens += prev.get(n) ?? 0;
          else taken += joined[j] ?? 0;
        });
        start = Int32Array.from(names, (n, j) => {
          if (kept[j] === 1) return prev.get(n) ?? 0;
          const x = joined[j] ?? 0;
          return x > 0 ? Math.max(1, Math.round((x / Math.max(1 - taken, 1e-9)) * keptTokens)) : 0;
        });
        joined.forEach((x, j) => {
          if (kept[j] === 0) target[j] = x * traffic;
        });
      }
      return { pieces: ringPieces(catalog, positions, replicas, from, to), target, start };
    };
    const [head, tail] = calibrate(
      tokens,
      [
        ring(sol.head, headTraffic, 0, sol.cutoff, previous.head, joiners?.head),
        ring(sol.tail, set.traffic - headTraffic, sol.cutoff, set.count, previous.tail, joiners?.tail),
      ],
      { kept, unit, room, budget, serversChanged: kept.some((k) => k === 0) || previous.names !== names.length },
    );
    return { head, tail };
  };
  // Replica counts depend on the largest weight of each ring, which calibration moves a little: when
  // that changes a count, calibrate again against the pieces `assign` will see.
  const caps = trafficCaps(servers, set.traffic, sol.bound);
  const before = replicaCounts(catalog, positions, set, servers, sol.cutoff, caps, [sol.head, sol.tail]);
  const first = run(before);
  const after = replicaCounts(catalog, positions, set, servers, sol.cutoff, caps, [first.head, first.tail]);
  return after.every((k, i) => k === before[i]) ? first : run(after);
}

/** The options of a plan, checked: PlacementInputError names the first bad one. */
function checkedOptions(input: PlanInput) {
  if (input.cluster.length === 0) throw new PlacementInputError("cluster: must be a non-empty name");
  const hysteresis = input.hysteresis ?? 0.02;
  const fillBudget = input.fillBudgetBytes ?? Number.POSITIVE_INFINITY;
  if (!(fillBudget > 0)) {
    throw new PlacementInputError(`fillBudgetBytes: must be a positive number of bytes, got ${input.fillBudgetBytes}`);
  }
  if (!(hysteresis >= 0 && hysteresis <= 1)) {
    throw new PlacementInputError(`hysteresis: must be a number in [0, 1], got ${input.hysteresis}`);
  }
  const fixed = input.cutoff ?? "auto";
  if (fixed !== "auto" && !(Number.isSafeInteger(fixed) && fixed >= 0)) {
    throw new PlacementInputError(`cutoff: must be "auto" or an integer ≥ 0, got ${String(fixed)}`);
  }
  return { hysteresis, fillBudget, fixed };
}

/**
 * Among feasible cutoffs, the one to use: those within `hysteresis` of the best balance are near; with
 * a previous plan, its cutoff when near (or, when servers joined or left, when feasible at all), else
 * the near one that churns least; without one, the smallest near cutoff.
 */
function chooseFeasible(
  solutions: readonly Solution[],
  hysteresis: number,
  previous:
    | Readonly<{ plan: Plan; names: readonly string[]; prefix: Prefix; prevHead: Float64Array; prevTail: Float64Array }>
    | undefined,
): Solution | undefined {
  const best = Math.min(...solutions.map((s) => s.use));
  const near = solutions.filter((s) => s.use <= best * (1 + hysteresis));
  // Files cross the cutoff when drift moves their rank by a factor (log-normal noise), so the bytes
  // crossing each night grow with D: the smallest near-optimal cutoff churns least.
  if (!previous) return near[0];
  const prevD = previous.plan.cutoff;
  // A server joining or leaving keeps a feasible cutoff: moving it would send every file that
  // crosses it to another ring, far more than the bytes the server change itself moves.
  const serversChanged = !sameNames(previous.plan, previous.names);
  const kept = (serversChanged ? solutions : near).find((s) => s.cutoff === prevD);
  if (kept) return kept;
  let chosen: Solution | undefined;
  let cost = Number.POSITIVE_INFINITY;
  for (const s of near) {
    const c = churnCost(s, previous.prefix, prevD, previous.prevHead, previous.prevTail);
    if (c < cost) {
      cost = c;
      chosen = s;
    }
  }
  return chosen;
}

/**
 * HCA: computes the cutoff D* and each server's head and tail tokens. Pure and deterministic.
 * Throws PlacementInputError on bad input and InfeasiblePlacementError for an infeasible fixed cutoff.
 */
export function planHca(input: PlanInput): PlanResult {
  const { hysteresis, fillBudget, fixed } = checkedOptions(input);
  const servers = canonicalServers(input.servers);
  validateCatalog(input.catalog);
  const previous = input.previous === undefined ? undefined : validPlan(input.previous);
  const names = servers.map((s) => s.name);
  const storage = Float64Array.from(servers, (s) => s.storageBytes);
  const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  const tau = Float64Array.from(servers, (s) => s.throughputBitsPerSec / throughput);

  const set = storedSet(input.catalog, servers);
  const p = prefixSums(input.catalog, set.count);
  const prevD = previous?.cutoff ?? 0;
  const prevHeadTokens = new Map(previous?.servers.map((s) => [s.name, s.headTokens]));
  const prevTailTokens = new Map(previous?.servers.map((s) => [s.name, s.tailTokens]));
  const prevHead = shares(names.map((n) => prevHeadTokens.get(n) ?? 0));
  const prevTail = shares(names.map((n) => prevTailTokens.get(n) ?? 0));

  const extra = fixed === "auto" ? (previous ? [prevD] : []) : [fixed];
  const solutions: Solution[] = [];
  for (const D of fixed === "auto" ? candidates(set.count, extra) : extra) {
    const s = solve(D, p, storage, tau);
    if (s) solutions.push(s);
  }
  if (fixed !== "auto" && solutions.length === 0) {
    throw new InfeasiblePlacementError(
      `cutoff: ${fixed} is infeasible for this catalog and cluster (some server's head or tail weight would be negative, or storage would not fit)`,
    );
  }

  const chosen =
    solutions.length > 0
      ? chooseFeasible(solutions, hysteresis, previous && { plan: previous, names, prefix: p, prevHead, prevTail })
      : undefined;

  const storedBytes = p.bytes[set.count] ?? 0;
  const sol =
    chosen ??
    (set.count >= 2
      ? leastPeak(candidates(set.count, extra), p, storage, tau, previous ? prevD : -1, hysteresis)
      : fallback(storage, tau, storedBytes));
  const tokens = calibratedTokens(
    sol,
    { catalog: input.catalog, servers, names, set, prefix: p },
    { head: prevHeadTokens, tail: prevTailTokens, cutoff: previous?.cutoff, names: previous?.servers.length ?? 0 },
    fillBudget,
  );
  const BH = p.bytes[sol.cutoff] ?? 0;
  const RH = p.traffic[sol.cutoff] ?? 0;
  const servedTokens: ServerTokens[] = names.map((name, j) => ({
    name,
    headTokens: tokens.head[j] ?? 0,
    tailTokens: tokens.tail[j] ?? 0,
  }));
  const feasibleCutoffs: readonly [number, number] =
    solutions.length > 0 ? [solutions[0]?.cutoff ?? 0, solutions[solutions.length - 1]?.cutoff ?? 0] : [0, 0];
  return {
    plan: {
      cluster: input.cluster,
      catalogGeneration: input.catalogGeneration ?? catalogFingerprint(input.catalog),
      cutoff: sol.cutoff,
      servers: servedTokens,
    },
    expectations: {
      feasible: chosen !== undefined,
      trafficBound: sol.bound,
      storedFiles: set.count,
      storedBytes,
      storedTraffic: set.traffic,
      maxExpectedUse: sol.use,
      feasibleCutoffs,
      servers: names.map((name, j) => {
        const h = sol.head[j] ?? 0;
        const t = sol.tail[j] ?? 0;
        const bytes = h * BH + t * (storedBytes - BH);
        return {
          name,
          headShare: h,
          tailShare: t,
          expectedBytes: bytes,
          expectedUse: bytes / (storage[j] ?? 1),
          trafficShare: set.traffic > 0 ? (h * RH + t * (set.traffic - RH)) / set.traffic : 0,
        };
      }),
    },
  };
}

function sameNames(plan: Plan, names: readonly string[]): boolean {
  const had = new Set(plan.servers.map((s) => s.name));
  return had.size === names.length && names.every((n) => had.has(n));
}

/**
 * No cutoff balances traffic (a flat catalog on a mixed cluster: the servers with the throughput lack
 * the storage for enough hot bytes). The cutoff, 0 (one ring) included, with the least traffic bound λ
 * (bound.ts) wins; the previous cutoff is kept while within `hysteresis` of it, since moving it sends
 * every crossing file to the other ring. Shares are those that leave the most room on the tail at λ.
 */
function leastPeak(
  cutoffs: readonly number[],
  p: Prefix,
  storage: Float64Array,
  tau: Float64Array,
  prevD: number,
  hysteresis: number,
): Solution {
  // λ(D) falls while the hot files fit where the throughput is and rises after: scan every
  // STRIDE-th cutoff of the grid, then every cutoff around the best of them, then every integer
  // between that one's neighbours (ternary search): λ is steep at its minimum, where the servers
  // with the throughput are just full, and a grid step there is tens of TB.
  const all = [0, ...cutoffs];
  const memo = new Map<number, number>();
  const bound = (D: number) => {
    let b = memo.get(D);
    if (b === undefined) {
      b = leastBound(D, p, storage, tau);
      memo.set(D, b);
    }
    return b;
  };
  const argmin = (ds: number[]) =>
    ds.reduce((x, y) => (bound(y) < bound(x) || (bound(y) === bound(x) && y < x) ? y : x));
  const coarse = argmin(all.filter((_, k) => k % STRIDE === 0 || k === all.length - 1));
  const near = all.indexOf(coarse);
  const grid = argmin(all.slice(Math.max(0, near - STRIDE), near + STRIDE + 1));
  const k = all.indexOf(grid);
  let lo = all[Math.max(0, k - 1)] ?? grid;
  let hi = all[Math.min(all.length - 1, k + 1)] ?? grid;
  while (hi - lo > 2) {
    const a = lo + Math.floor((hi - lo) / 3);
    const b = hi - Math.floor((hi - lo) / 3);
    if (bound(a) <= bound(b)) hi = b;
    else lo = a;
  }
  const best = argmin([grid, ...Array.from({ length: hi - lo + 1 }, (_, x) => lo + x)]);
  const keep = prevD >= 0 && prevD < p.bytes.length - 1 && bound(prevD) <= bound(best) * (1 + hysteresis);
  const D = keep ? prevD : best;
  const lambda = bound(D);
  const { head, tail } = boundedShares(D, lambda, p, storage, tau);
  const n = p.bytes.length - 1;
  const BH = p.bytes[D] ?? 0;
  const BT = (p.bytes[n] ?? 0) - BH;
  let use = 0;
  for (let j = 0; j < tail.length; j++) {
    use = Math.max(use, ((head[j] ?? 0) * BH + (tail[j] ?? 0) * BT) / (storage[j] ?? 1));
  }
  return { cutoff: D, use, head, tail, bound: lambda };
}

/** Fewer than two stored files: one ring weighted by throughput. */
function fallback(storage: Float64Array, tau: Float64Array, bytes: number): Solution {
  let use = 0;
  for (let j = 0; j < storage.length; j++) use = Math.max(use, ((tau[j] ?? 0) * bytes) / (storage[j] ?? 1));
  return { cutoff: 0, use, head: new Float64Array(storage.length), tail: Float64Array.from(tau), bound: 1 };
}

/** A fingerprint of a catalog snapshot (keys, sizes, demands and order): a default catalogGeneration. */
export function catalogFingerprint(catalog: readonly CatalogFile[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (const f of catalog) {
    const line = `${f.key}\t${f.bytes}\t${f.demand}\n`;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
  }
  return `${(a >>> 0).toString(16).padStart(8, "0")}${(b >>> 0).toString(16).padStart(8, "0")}-${catalog.length}`;
}
