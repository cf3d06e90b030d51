/**
 * Token calibration (README, "Tokens"): a ring's token shares are only its servers' expected shares of
 * the keys; with ~1,000 random tokens per server the arcs a server owns differ from its share by a few
 * per cent, and hot files add their own noise. The bounded-load pass would correct that by spilling
 * files past their owners, and spills re-route whenever loads change, which multiplies churn. So the
 * planner measures each server's load on the bare ring and scales its token count until the load is
 * within CALIBRATED of its target; the pass's caps then rarely bind.
 */
import { replicaPosition, serverSeed, tokenPosition } from "./hash.js";
import { gather, positionOrder } from "./order.js";
import { Ring } from "./ring.js";
import { fileTraffic } from "./stored.js";
import type { CatalogFile } from "./types.js";

/** A calibrated server's load is within this fraction of its traffic target (τ_j·R when feasible). */
const CALIBRATED = 0.01;
/**
 * A server keeps its previous token counts while its traffic stays within this fraction of its target:
 * inside the pass's 4 % cap, and wide enough for calibration's 1 % plus the 1.1 % every share loses
 * when a server joins 100. Not re-calibrating every night keeps the nightly fill to what popularity
 * drift moves.
 */
const KEEP_BAND = 0.03;
/**
 * The band on a night when servers joined or left: up to KEEP_OVER above the target, KEEP_UNDER below.
 * An under-loaded server costs no balance by itself (another is over by as much, and is re-calibrated
 * past KEEP_OVER): removing a head-heavy server from 74 raised every tail-only server's target 3.5 %
 * with no new keys for it, and re-calibrating them all fetched 7.7× the removed server's bytes. The
 * next night's symmetric band re-calibrates them within the fill budget.
 */
const KEEP_OVER = 0.035;
const KEEP_UNDER = 0.1;
const ROUNDS = 16;
const DAMPING = 0.5;
/** A calibrated count stays within this factor of the count uniform arcs would need. */
const MAX_SKEW = 4;

/**
 * What one ring carries: files [from, to) of the ranked catalog. Files with one replica are points,
 * summed once per universe token; a replicated file's replicas go to distinct servers, as in `assign`,
 * so they are walked one by one.
 */
export type Pieces = Readonly<{
  catalog: readonly CatalogFile[];
  /** Key position of every file of the catalog. */
  positions: Float64Array;
  replicas: Uint16Array;
  from: number;
  to: number;
  replicated: readonly Readonly<{ position: number; replicas: number; traffic: number; bytes: number }>[];
}>;

/** Pieces of files [from, to) of the ranked catalog; `positions[i]` is file i's key position. */
export function ringPieces(
  catalog: readonly CatalogFile[],
  positions: Float64Array,
  replicas: Uint16Array,
  from: number,
  to: number,
): Pieces {
  const replicated: Pieces["replicated"][number][] = [];
  for (let i = from; i < to; i++) {
    const k = replicas[i] ?? 1;
    if (k === 1) continue;
    const f = catalog[i] as CatalogFile;
    replicated.push({ position: positions[i] ?? 0, replicas: k, traffic: fileTraffic(f) / k, bytes: f.bytes });
  }
  return { catalog, positions, replicas, from, to, replicated };
}

export type Loads = Readonly<{ traffic: Float64Array; bytes: Float64Array }>;

/** Per universe token: the single pieces whose first universe token at or after them is that one. */
type Arcs = Readonly<{ traffic: Float64Array; bytes: Float64Array }>;

/**
 * Every token any calibration round may use, sorted once. A round's ring is the tokens whose index is
 * below their server's count: a key belongs to the first of those at or after it, which is the first
 * active token at or after the key's first universe token. So the single pieces are summed per
 * universe token once (`Arcs`), and a round's loads are one pass over the universe, not over the pieces.
 */
export class TokenUniverse {
  readonly #names: readonly string[];
  #limits: Int32Array = new Int32Array(0);
  /** Every candidate token as one ring: its slot lookup finds a key's first universe token. */
  #all = Ring.fromSorted(new Float64Array(0), new Uint32Array(0));
  #owners = new Uint32Array(0);
  #index = new Uint32Array(0);
  #arcs = new WeakMap<Pieces, Arcs>();

  constructor(names: readonly string[]) {
    this.#names = names;
  }

  /**
   * Makes room for every ring's counts at once: growing the universe sums the pieces again, so the
   * head ring must not grow it just before the tail ring needs it larger.
   */
  reserve(rings: readonly Int32Array[]): void {
    const m = this.#names.length;
    const most = new Int32Array(m);
    for (const counts of rings) for (let j = 0; j < m; j++) most[j] = Math.max(most[j] ?? 0, counts[j] ?? 0);
    if (this.#limits.length === 0 || most.some((k, j) => k > (this.#limits[j] ?? 0))) {
      this.#grow(Int32Array.from(most, (k, j) => Math.max(2 * k + 64, this.#limits[j] ?? 0)));
    }
  }

  /** What each server carries on the bare ring of `counts` tokens (reserved): every piece on its owner. */
  loads(counts: Int32Array, pieces: Pieces): Loads {
    const m = this.#names.length;
    this.reserve([counts]);
    const traffic = new Float64Array(m);
    const bytes = new Float64Array(m);
    const arcs = this.#arcsOf(pieces);
    const owners = this.#owners;
    const index = this.#index;
    let first = -1;
    let pendingTraffic = 0;
    let pendingBytes = 0;
    for (let u = 0; u < owners.length; u++) {
      pendingTraffic += arcs.traffic[u] ?? 0;
      pendingBytes += arcs.bytes[u] ?? 0;
      const j = owners[u] ?? 0;
      if ((index[u] ?? 0) >= (counts[j] ?? 0)) continue;
      if (first < 0) first = j;
      traffic[j] = (traffic[j] ?? 0) + pendingTraffic;
      bytes[j] = (bytes[j] ?? 0) + pendingBytes;
      pendingTraffic = 0;
      pendingBytes = 0;
    }
    if (first < 0) return { traffic, bytes };
    // Past the last active token the ring wraps to the first.
    traffic[first] = (traffic[first] ?? 0) + pendingTraffic;
    bytes[first] = (bytes[first] ?? 0) + pendingBytes;
    // A replicated file's replicas go to distinct servers, as in `assign`: walk the active tokens.
    const holds = new Int32Array(m).fill(-1);
    const n = owners.length;
    pieces.replicated.forEach((f, i) => {
      for (let c = 0; c < f.replicas; c++) {
        let u = this.#all.slot(c === 0 ? f.position : replicaPosition(f.position, c));
        // `replicas` never exceeds the servers on the ring, so the walk ends within one lap.
        for (let step = 0; step < n; step++, u = u + 1 === n ? 0 : u + 1) {
          const j = owners[u] ?? 0;
          if ((index[u] ?? 0) < (counts[j] ?? 0) && holds[j] !== i) break;
        }
        const j = owners[u] ?? 0;
        holds[j] = i;
        traffic[j] = (traffic[j] ?? 0) + f.traffic;
        bytes[j] = (bytes[j] ?? 0) + f.bytes;
      }
    });
    return { traffic, bytes };
  }

  #arcsOf(pieces: Pieces): Arcs {
    let arcs = this.#arcs.get(pieces);
    if (arcs !== undefined) return arcs;
    const n = this.#owners.length;
    const traffic = new Float64Array(n);
    const bytes = new Float64Array(n);
    for (let i = pieces.from; i < pieces.to; i++) {
      if ((pieces.replicas[i] ?? 1) !== 1) continue;
      const f = pieces.catalog[i] as CatalogFile;
      const u = this.#all.slot(pieces.positions[i] ?? 0);
      traffic[u] = (traffic[u] ?? 0) + fileTraffic(f);
      bytes[u] = (bytes[u] ?? 0) + f.bytes;
    }
    arcs = { traffic, bytes };
    this.#arcs.set(pieces, arcs);
    return arcs;
  }

  #grow(limits: Int32Array): void {
    const seeds = this.#names.map(serverSeed);
    let n = 0;
    for (const k of limits) n += k;
    const pos = new Float64Array(n);
    const own = new Uint32Array(n);
    const idx = new Uint32Array(n);
    let t = 0;
    limits.forEach((k, j) => {
      const seed = seeds[j] ?? [0, 0];
      for (let i = 0; i < k; i++, t++) {
        pos[t] = tokenPosition(seed, i);
        own[t] = j;
        idx[t] = i;
      }
    });
    // Same order as Ring.build: position, then (server, token) for ties.
    const order = positionOrder(pos);
    this.#owners = gather(own, order);
    this.#all = Ring.fromSorted(gather(pos, order), this.#owners);
    this.#index = gather(idx, order);
    this.#limits = limits;
    this.#arcs = new WeakMap();
  }
}

export type RingCalibration = Readonly<{
  pieces: Pieces;
  /** Per server: the traffic it should carry on this ring (its share of the ring × the ring's traffic). */
  target: Float64Array;
  /** Per server: the counts to start from: the previous plan's, or from the shares for a new server. */
  start: Int32Array;
}>;

export type ServerCalibration = Readonly<{
  /** Per server: 1 when it was in the previous plan, whose counts it keeps while within its band. */
  kept: Uint8Array;
  /** Per server: its whole traffic target (τ_j·R when the cutoff is feasible), the unit of every deviation. */
  unit: Float64Array;
  /** Per server: the bytes it may store (fillLimit × storage); a kept server above it is re-calibrated. */
  room: Float64Array;
  /** Per server: bytes the corrections of a kept server's counts may move on each ring. */
  budget: Float64Array;
  /** Servers joined or left since the previous plan: the wider band (KEEP_OVER, KEEP_UNDER) applies. */
  serversChanged: boolean;
}>;

/**
 * Calibrated token counts for the head and the tail ring. A new server (every server of a fresh plan)
 * is calibrated within CALIBRATED of its target on each ring. A kept server keeps its counts while its
 * traffic over both rings stays within its band (KEEP_BAND, or KEEP_OVER/KEEP_UNDER when servers changed) and its bytes within its room: adding a server
 * then moves only the keys the new server takes. Otherwise it is calibrated too, but each count moves
 * by at most the tokens its budget pays for (a token carries about bytes ÷ tokens of the ring).
 */
export function calibrate(
  tokens: TokenUniverse,
  rings: readonly [RingCalibration, RingCalibration],
  s: ServerCalibration,
): [Int32Array, Int32Array] {
  const m = s.unit.length;
  const counts = [rings[0].start.slice(), rings[1].start.slice()] as [Int32Array, Int32Array];
  const active = Uint8Array.from(s.kept, (k) => 1 - k);
  const maxDelta = [new Float64Array(m), new Float64Array(m)];
  // Tokens on each ring at the start (fixed, so that `fair` below cannot run away with the counts).
  const scale = rings.map((r) => Math.max(sum(r.start), 1));
  for (let round = 0; round < ROUNDS; round++) {
    tokens.reserve(counts);
    const loads = rings.map((r, x) => tokens.loads(counts[x] as Int32Array, r.pieces));
    if (round === 0) {
      rings.forEach((r, x) => {
        const total = sum(r.start);
        const perToken = total > 0 ? sum(loads[x]?.bytes ?? []) / total : 0;
        for (let j = 0; j < m; j++) {
          const k = r.start[j] ?? 0;
          const bytes = k > 0 ? (loads[x]?.bytes[j] ?? 0) / k : perToken;
          (maxDelta[x] as Float64Array)[j] = bytes > 0 ? Math.floor((s.budget[j] ?? 0) / bytes) : 0;
        }
      });
    }
    let changed = false;
    for (let j = 0; j < m; j++) {
      const unit = s.unit[j] ?? 1;
      if (active[j] === 0) {
        const traffic = (loads[0]?.traffic[j] ?? 0) + (loads[1]?.traffic[j] ?? 0);
        const bytes = (loads[0]?.bytes[j] ?? 0) + (loads[1]?.bytes[j] ?? 0);
        const over = s.serversChanged ? KEEP_OVER : KEEP_BAND;
        const under = s.serversChanged ? KEEP_UNDER : KEEP_BAND;
        const kept = traffic - unit <= over * unit && unit - traffic <= under * unit;
        if (kept && bytes <= (s.room[j] ?? 0)) continue;
        active[j] = 1;
      }
      rings.forEach((r, x) => {
        const c = counts[x] as Int32Array;
        const target = r.target[j] ?? 0;
        const load = loads[x]?.traffic[j] ?? 0;
        const k = c[j] ?? 0;
        if (Math.abs(load - target) <= CALIBRATED * unit) return;
        // Its fair count: what its share of the ring's traffic would get from uniform arcs.
        const fair = Math.max(1, Math.round((target / ringTraffic(loads[x])) * (scale[x] ?? 0)));
        let want: number;
        if (target <= 0) want = 0;
        else if (k === 0 || load <= 0) want = Math.max(fair, 2 * k);
        else want = Math.max(1, Math.round(k + DAMPING * ((k * target) / load - k)));
        // A ring with a few big pieces cannot be calibrated finely; never chase one with runaway counts.
        want = Math.min(want, MAX_SKEW * fair);
        if (s.kept[j] === 1) {
          const from = r.start[j] ?? 0;
          const limit = maxDelta[x]?.[j] ?? 0;
          want = Math.min(from + limit, Math.max(from - limit, want));
        }
        if (want !== k) {
          c[j] = want;
          changed = true;
        }
      });
    }
    if (!changed) break;
  }
  return counts;
}

function sum(xs: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i] ?? 0;
  return t;
}

function ringTraffic(loads: Loads | undefined): number {
  return loads ? Math.max(sum(loads.traffic), Number.MIN_VALUE) : Number.MIN_VALUE;
}
