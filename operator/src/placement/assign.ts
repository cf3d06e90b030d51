import { Assignment } from "./assignment.js";
import { cutPrefix, leastBound } from "./bound.js";
import { replicaPosition } from "./hash.js";
import { replicaCounts, serversOnRing, trafficCaps } from "./replicas.js";
import { Ring } from "./ring.js";
import { fileTraffic, storedSet } from "./stored.js";
import { type CatalogFile, PlacementInputError, type Plan, type Server } from "./types.js";
import { canonicalServers, keyPositions, validateCatalog, validPlan } from "./validate.js";

/** Each server's tokens; throws PlacementInputError unless the plan and the servers name the same servers. */
function tokensByServer(p: Plan, list: readonly Server[]): Map<string, Plan["servers"][number]> {
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
  return tokens;
}

/**
 * Turns a plan into the file → servers assignment, the same on every machine: the operator, every
 * edge agent and the playback API call this with the same (plan, catalog snapshot, servers).
 *
 * File i < cutoff goes on the head ring, the others on the tail ring, at hash(key) (replica c at a
 * position derived from hash(key) and c). The bounded-load pass walks clockwise to the first server
 * with room for the bytes (storage is a hard limit) and for the traffic ((1 + ε) × its throughput share
 * of the stored traffic, over both rings), holding no other replica of the file. If no server on the
 * ring has both, the one with storage room and the most traffic room left takes it (traffic above the
 * cap rather than a hole); then, off the ring, the server with storage room and the most traffic room.
 * The tail is placed first, in rank order, then the head in rank order: a server whose traffic drifts
 * over its cap then sheds head files, whose bytes per unit of traffic are far fewer than the tail's,
 * and the next night takes back only those (spilled tail files moved tens of TB in one night).
 * Throws PlacementInputError when the plan and the servers disagree or the input breaks a rule.
 */
export function assign(plan: Plan, catalog: readonly CatalogFile[], servers: readonly Server[]): Assignment {
  const p = validPlan(plan);
  const list = canonicalServers(servers);
  const tokens = tokensByServer(p, list);
  validateCatalog(catalog);
  const positions = keyPositions(catalog);

  const names = list.map((s) => s.name);
  const headTokens = names.map((n) => tokens.get(n)?.headTokens ?? 0);
  const tailTokens = names.map((n) => tokens.get(n)?.tailTokens ?? 0);
  const hasHead = headTokens.some((t) => t > 0);
  const hasTail = tailTokens.some((t) => t > 0);
  if (!hasHead && !hasTail) throw new PlacementInputError("plan.servers: every server has zero tokens");
  const set = storedSet(catalog, list);
  // A ring without tokens hands its files to the other ring.
  const cutoff = !hasHead ? 0 : !hasTail ? set.count : Math.min(p.cutoff, set.count);
  const head = Ring.build(names, headTokens);
  const tail = Ring.build(names, tailTokens);
  const ringServers = [serversOnRing(headTokens), serversOnRing(tailTokens)] as const;
  const throughput = list.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  const cut = cutPrefix(catalog, set.count, cutoff);
  const bound = leastBound(
    cut.cutoff,
    cut.prefix,
    Float64Array.from(list, (s) => s.storageBytes),
    Float64Array.from(list, (s) => s.throughputBitsPerSec / throughput),
  );
  const trafficLeft = trafficCaps(list, set.traffic, bound);
  const replicas = replicaCounts(catalog, positions, set, list, cutoff, trafficLeft, [headTokens, tailTokens]);

  const m = list.length;
  const storageLeft = Float64Array.from(list, (s) => s.storageBytes);
  const seen = new Int32Array(m).fill(-1);
  const holds = new Int32Array(m).fill(-1);
  let walk = 0;
  // Replica c of file i goes to holders[offsets[i] + c]; -1 until placed, and for a replica no server took.
  const offsets = new Int32Array(catalog.length + 1);
  for (let i = 0; i < catalog.length; i++)
    offsets[i + 1] = (offsets[i] ?? 0) + (i < set.count ? (replicas[i] ?? 1) : 0);
  const holders = new Int32Array(offsets[catalog.length] ?? 0).fill(-1);

  /** The server for one replica of file `i`, or -1. */
  const place = (ring: Ring, servers: number, start: number, i: number, bytes: number, traffic: number): number => {
    walk++;
    let spare = -1;
    let slot = ring.slot(start);
    // Stop once every server on the ring has been seen: a full lap of the ring adds nothing.
    let distinct = 0;
    for (let step = 0; step < ring.size && distinct < servers; step++, slot = ring.next(slot)) {
      const j = ring.owner(slot);
      if (seen[j] === walk) continue;
      seen[j] = walk;
      distinct++;
      if (holds[j] === i || (storageLeft[j] ?? 0) < bytes) continue;
      const left = trafficLeft[j] ?? 0;
      if (left >= traffic) return j;
      if (spare < 0 || left > (trafficLeft[spare] ?? 0)) spare = j;
    }
    if (spare >= 0) return spare;
    // Off the ring: the server with storage room and the most traffic room left.
    for (let j = 0; j < m; j++) {
      if (holds[j] === i || (storageLeft[j] ?? 0) < bytes) continue;
      if (spare < 0 || (trafficLeft[j] ?? 0) > (trafficLeft[spare] ?? 0)) spare = j;
    }
    return spare;
  };

  const placeFiles = (from: number, to: number, ring: Ring, servers: number): void => {
    for (let i = from; i < to; i++) {
      const f = catalog[i] as CatalogFile;
      const k = replicas[i] ?? 1;
      const t = fileTraffic(f) / k;
      const pos = positions[i] ?? 0;
      for (let c = 0; c < k; c++) {
        const j = place(ring, servers, c === 0 ? pos : replicaPosition(pos, c), i, f.bytes, t);
        if (j < 0) continue;
        holds[j] = i;
        storageLeft[j] = (storageLeft[j] ?? 0) - f.bytes;
        trafficLeft[j] = (trafficLeft[j] ?? 0) - t;
        holders[(offsets[i] ?? 0) + c] = j;
      }
    }
  };
  placeFiles(cutoff, set.count, tail, ringServers[1]);
  placeFiles(0, cutoff, head, ringServers[0]);
  return compacted(names, catalog, set.count, cutoff, offsets, holders);
}

/** The assignment without the unplaced (-1) replica slots. */
function compacted(
  names: readonly string[],
  catalog: readonly CatalogFile[],
  stored: number,
  cutoff: number,
  offsets: Int32Array,
  holders: Int32Array,
): Assignment {
  let n = 0;
  let from = 0;
  for (let i = 0; i < catalog.length; i++) {
    const to = offsets[i + 1] ?? 0;
    for (let x = from; x < to; x++) {
      const j = holders[x] ?? -1;
      if (j >= 0) holders[n++] = j;
    }
    from = to;
    offsets[i + 1] = n;
  }
  return new Assignment({ servers: names, catalog, stored, cutoff, offsets, holders: holders.subarray(0, n) });
}
