import type { AssignmentBuilder } from "./assignment.js";
import { replicaPosition } from "./hash.js";
import { Ring } from "./ring.js";
import { fileTraffic, HCA } from "./stored.js";
import type { CatalogFile, Server } from "./types.js";

/**
 * The placement pass shared by `assign` (bounded) and by `planHca`'s token calibration (unbounded).
 * Both must take the same replica counts and walk the same rings, so the logic lives here once.
 */
export type PassInput = Readonly<{
  /** Ring position, bytes and traffic of files 0 … stored − 1 (typed arrays: the calibration reads them many times). */
  positions: Float64Array;
  fileBytes: Float64Array;
  fileTraffic: Float64Array;
  /** Servers in canonical (name) order. */
  servers: readonly Server[];
  headTokens: ArrayLike<number>;
  tailTokens: ArrayLike<number>;
  /** Files 0 … stored − 1 are placed; files below `cutoff` go on the head ring. */
  stored: number;
  cutoff: number;
  /** Traffic of the stored set. */
  traffic: number;
  /** Traffic of the head (files below `cutoff`). */
  headTraffic: number;
  /** Bytes of the stored set. */
  bytes: number;
}>;

/** Per-server traffic each ring delivered, and (bounded pass) the holders of every file. */
export type PassResult = { headLoad: Float64Array; tailLoad: Float64Array };

/** One ring of the plan and what the replica count needs to know about it. */
type Lane = {
  ring: Ring;
  /** Caps of the servers on the ring, descending. */
  caps: Float64Array;
  chunk: number;
  servers: number;
  /**
   * Most replicas of one file: half the ring's effective servers (rounded down to a power of two).
   * Replicas go to distinct servers, so a count near the number of servers on the ring would force
   * pieces onto servers with a handful of tokens, far beyond their share.
   */
  maxReplicas: number;
  load: Float64Array;
};

function lane(names: readonly string[], tokens: ArrayLike<number>, traffic: number, cap: Float64Array): Lane {
  const ring = Ring.build(names, tokens);
  const on: number[] = [];
  for (let j = 0; j < names.length; j++) if ((tokens[j] ?? 0) > 0) on.push(cap[j] ?? 0);
  const caps = Float64Array.from(on).sort().reverse();
  const servers = on.length;
  // The ring's effective number of servers, (Σt)²/Σt²: a ring where 20 servers hold 95 % of the
  // tokens has ~21, not 100, so pieces are sized by the servers that really carry the ring.
  let sum = 0;
  let squares = 0;
  for (let j = 0; j < names.length; j++) {
    const t = tokens[j] ?? 0;
    sum += t;
    squares += t * t;
  }
  const effective = squares > 0 ? (sum * sum) / squares : 0;
  // Hot files are split into replicas ("pieces") of at most R_ring/(piecesPerServer·m_ring). That is
  // far below ε·R_ring/m_ring, the room some server always has (README, "Traffic"), and it makes the
  // unbounded loads smooth enough for the calibration to bring them within the cap.
  // Rounded down to a power of two, so that adding or removing a server rarely changes the piece
  // size, and with it the replica count (and so the holders) of every hot file.
  let rounded = 1;
  while (rounded * 2 <= effective) rounded *= 2;
  const chunk = effective > 0 ? traffic / (HCA.piecesPerServer * rounded) : 0;
  return { ring, caps, chunk, servers, maxReplicas: Math.max(2, rounded / 2), load: new Float64Array(names.length) };
}

/** How many servers on the lane have a whole cap of at least `x`. */
function serversWithCap(l: Readonly<Lane>, x: number): number {
  let lo = 0;
  let hi = l.caps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((l.caps[mid] ?? 0) >= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Replicas of a file with traffic `t`: enough that each carries at most a chunk, but no more than the
 * servers whose cap is at least twice a replica's traffic, so small servers are never forced to take
 * a replica they cannot carry.
 */
function replicasFor(t: number, l: Readonly<Lane>): number {
  if (l.chunk <= 0 || t <= l.chunk) return 1;
  let k = Math.min(l.servers, l.maxReplicas, Math.ceil(t / l.chunk));
  while (k > 1 && serversWithCap(l, (2 * t) / k) < k) k--;
  return k;
}

/** Bytes and traffic of files 0 … count − 1 as typed arrays. */
export function fileArrays(
  catalog: readonly CatalogFile[],
  count: number,
): { bytes: Float64Array; traffic: Float64Array } {
  const bytes = new Float64Array(count);
  const traffic = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const f = catalog[i];
    if (f === undefined) break;
    bytes[i] = f.bytes;
    traffic[i] = fileTraffic(f);
  }
  return { bytes, traffic };
}

/** Each server's traffic cap: (1 + ε) × its throughput share of the stored traffic. */
export function trafficCaps(servers: readonly Server[], traffic: number): Float64Array {
  const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  return Float64Array.from(servers, (s) => ((1 + HCA.loadBound) * s.throughputBitsPerSec * traffic) / throughput);
}

/**
 * Places files 0 … stored − 1 in rank order. Unbounded (`out` undefined): each replica goes to the
 * first server clockwise that holds no other replica of the file. Bounded: to the first such server
 * with room for its bytes (storage is a hard limit) and its traffic (the server's cap); if none on
 * the ring has both, the one with storage room and the most traffic room left (traffic above the
 * cap rather than a hole); then any server with storage room.
 */
export function placementPass(input: PassInput, out?: AssignmentBuilder): PassResult {
  const { positions, fileBytes, fileTraffic, servers: list, cutoff } = input;
  const names = list.map((s) => s.name);
  const m = list.length;
  const caps = trafficCaps(list, input.traffic);
  const head = lane(names, input.headTokens, input.headTraffic, caps);
  const tail = lane(names, input.tailTokens, input.traffic - input.headTraffic, caps);
  const bounded = out !== undefined;
  const trafficLeft = caps.slice();
  const storageLeft = Float64Array.from(list, (s) => s.storageBytes);
  const capacity = list.reduce((x, s) => x + s.storageBytes, 0);
  // Extra replicas may use the storage past the stored set but half the fill headroom, which stays
  // free so that spills always find room (README, "No holes").
  let replicaBytesLeft = capacity - input.bytes - ((1 - HCA.fillLimit) / 2) * capacity;
  const seen = new Int32Array(m).fill(-1);
  const holds = new Int32Array(m).fill(-1);
  let walk = 0;

  /** The server for one replica of file `i`, or -1. */
  const place = (l: Lane, start: number, i: number, bytes: number, traffic: number): number => {
    walk++;
    let spare = -1;
    const ring = l.ring;
    let slot = ring.slot(start);
    // Stop once every server on the ring has been seen: a full lap of the ring adds nothing.
    let distinct = 0;
    for (let step = 0; step < ring.size && distinct < l.servers; step++, slot = ring.next(slot)) {
      const j = ring.owner(slot);
      if (seen[j] === walk) continue;
      seen[j] = walk;
      distinct++;
      if (holds[j] === i) continue;
      if (!bounded) return j;
      if ((storageLeft[j] ?? 0) < bytes) continue;
      const left = trafficLeft[j] ?? 0;
      if (left >= traffic) return j;
      if (spare < 0 || left > (trafficLeft[spare] ?? 0)) spare = j;
    }
    if (spare >= 0 || !bounded) return spare;
    for (let j = 0; j < m; j++) if (holds[j] !== i && (storageLeft[j] ?? 0) >= bytes) return j;
    return -1;
  };

  for (let i = 0; i < input.stored; i++) {
    const l = i < cutoff ? head : tail;
    const t = fileTraffic[i] ?? 0;
    const b = fileBytes[i] ?? 0;
    if (t <= l.chunk && !bounded) {
      // The common case of the calibration: one replica, one lookup, no walk.
      const j = l.ring.lookup(positions[i] ?? 0);
      if (j >= 0) l.load[j] = (l.load[j] ?? 0) + t;
      continue;
    }
    const k = Math.min(replicasFor(t, l), 1 + Math.floor(replicaBytesLeft / b));
    replicaBytesLeft -= (k - 1) * b;
    const pos = positions[i] ?? 0;
    const share = t / k;
    for (let c = 0; c < k; c++) {
      const j = place(l, c === 0 ? pos : replicaPosition(pos, c), i, b, share);
      if (j < 0) continue;
      holds[j] = i;
      storageLeft[j] = (storageLeft[j] ?? 0) - b;
      trafficLeft[j] = (trafficLeft[j] ?? 0) - share;
      l.load[j] = (l.load[j] ?? 0) + share;
      out?.push(j);
    }
    out?.next();
  }
  return { headLoad: head.load, tailLoad: tail.load };
}
