import { type Assignment, AssignmentBuilder } from "./assignment.js";
import { keyPosition, replicaPosition } from "./hash.js";
import { Ring } from "./ring.js";
import { fileTraffic, HCA, storedSet } from "./stored.js";
import { type CatalogFile, PlacementInputError, type Plan, type Server } from "./types.js";
import { canonicalServers, uniqueKeys, validateCatalog, validPlan } from "./validate.js";

/** One ring of the plan with its per-server traffic budget for the bounded-load pass. */
type Lane = {
  ring: Ring;
  trafficLeft: Float64Array;
  /** Each server's whole traffic cap on this ring, descending. */
  caps: Float64Array;
  chunk: number;
  servers: number;
};

function lane(names: readonly string[], tokens: readonly number[], traffic: number): Lane {
  const ring = Ring.build(names, tokens);
  const total = tokens.reduce((x, y) => x + y, 0);
  const servers = tokens.filter((t) => t > 0).length;
  const trafficLeft = Float64Array.from(tokens, (t) => (total > 0 ? ((1 + HCA.loadBound) * t * traffic) / total : 0));
  const caps = trafficLeft.slice().sort().reverse();
  // With caps summing to (1 + ε)·R, some server always has room for a piece ≤ ε·R/m: half that
  // keeps the guarantee with margin, so the hottest files are split into replicas of that size.
  return { ring, trafficLeft, caps, chunk: servers > 0 ? (HCA.loadBound * traffic) / (2 * servers) : 0, servers };
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
  let k = Math.min(l.servers, Math.ceil(t / l.chunk));
  while (k > 1 && serversWithCap(l, (2 * t) / k) < k) k--;
  return k;
}

/**
 * Turns a plan into the file → servers assignment, the same on every machine: the operator, every
 * edge agent and the playback API call this with the same (plan, catalog snapshot, servers).
 *
 * Files of the stored set are taken in rank order. File i < cutoff goes on the head ring, the others
 * on the tail ring, at hash(key) (replica c at a position derived from hash(key) and c). The
 * bounded-load pass walks clockwise to the first server with room for the bytes (storage is a hard
 * limit) and for the traffic (on each ring, (1 + ε) × the server's token share of that ring's
 * traffic), holding no other replica of the file. If no server on the ring has both, the one with
 * storage room and the most traffic room left takes it (traffic above the cap rather than a hole);
 * then any server with storage room.
 * Throws PlacementInputError when the plan and the servers disagree or the input breaks a rule.
 */
export function assign(plan: Plan, catalog: readonly CatalogFile[], servers: readonly Server[]): Assignment {
  const p = validPlan(plan);
  const list = canonicalServers(servers);
  const tokens = new Map(p.servers.map((s) => [s.name, s]));
  if (tokens.size !== p.servers.length) throw new PlacementInputError("plan.servers: server names must be unique");
  for (const s of list) {
    if (!tokens.has(s.name)) throw new PlacementInputError(`plan.servers: no tokens for server "${s.name}"`);
  }
  for (const name of tokens.keys()) {
    if (!list.some((s) => s.name === name)) {
      throw new PlacementInputError(`servers: plan.servers names "${name}", which has no capacities`);
    }
  }
  validateCatalog(catalog);
  const positions = new Float64Array(catalog.length);
  for (let i = 0; i < catalog.length; i++) positions[i] = keyPosition(catalog[i]?.key ?? "");
  uniqueKeys(catalog, positions);

  const names = list.map((s) => s.name);
  const headTokens = names.map((n) => tokens.get(n)?.headTokens ?? 0);
  const tailTokens = names.map((n) => tokens.get(n)?.tailTokens ?? 0);
  const hasHead = headTokens.some((t) => t > 0);
  const hasTail = tailTokens.some((t) => t > 0);
  if (!hasHead && !hasTail) throw new PlacementInputError("plan.servers: every server has zero tokens");
  const set = storedSet(catalog, list);
  // A ring without tokens hands its files to the other ring.
  const cutoff = !hasHead ? 0 : !hasTail ? set.count : Math.min(p.cutoff, set.count);
  let headTraffic = 0;
  for (let i = 0; i < cutoff; i++) {
    const f = catalog[i];
    if (f !== undefined) headTraffic += fileTraffic(f);
  }
  const head = lane(names, headTokens, headTraffic);
  const tail = lane(names, tailTokens, set.traffic - headTraffic);

  const m = list.length;
  const storageLeft = Float64Array.from(list, (s) => s.storageBytes);
  const capacity = list.reduce((x, s) => x + s.storageBytes, 0);
  // Extra replicas may use the storage past the stored set but half the fill headroom, which stays
  // free so that spills always find room (README, "No holes").
  let replicaBytesLeft = capacity - set.bytes - ((1 - HCA.fillLimit) / 2) * capacity;
  const seen = new Int32Array(m).fill(-1);
  const holds = new Int32Array(m).fill(-1);
  let walk = 0;
  const out = new AssignmentBuilder(catalog.length);

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
      if (holds[j] === i || (storageLeft[j] ?? 0) < bytes) continue;
      const left = l.trafficLeft[j] ?? 0;
      if (left >= traffic) return j;
      if (spare < 0 || left > (l.trafficLeft[spare] ?? 0)) spare = j;
    }
    if (spare >= 0) return spare;
    for (let j = 0; j < m; j++) if (holds[j] !== i && (storageLeft[j] ?? 0) >= bytes) return j;
    return -1;
  };

  for (let i = 0; i < set.count; i++) {
    const f = catalog[i];
    if (f === undefined) break;
    const l = i < cutoff ? head : tail;
    const t = fileTraffic(f);
    const k = Math.min(replicasFor(t, l), 1 + Math.floor(replicaBytesLeft / f.bytes));
    replicaBytesLeft -= (k - 1) * f.bytes;
    const pos = positions[i] ?? 0;
    for (let c = 0; c < k; c++) {
      const j = place(l, c === 0 ? pos : replicaPosition(pos, c), i, f.bytes, t / k);
      if (j < 0) continue;
      holds[j] = i;
      storageLeft[j] = (storageLeft[j] ?? 0) - f.bytes;
      l.trafficLeft[j] = (l.trafficLeft[j] ?? 0) - t / k;
      out.push(j);
    }
    out.next();
  }
  return out.build(names, catalog, set.count, cutoff);
}
