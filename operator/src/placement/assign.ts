import { type Assignment, AssignmentBuilder } from "./assignment.js";
import { keyPosition } from "./hash.js";
import { fileArrays, placementPass } from "./pass.js";
import { storedSet } from "./stored.js";
import { type CatalogFile, PlacementInputError, type Plan, type Server } from "./types.js";
import { canonicalServers, uniqueKeys, validateCatalog, validPlan } from "./validate.js";

/**
 * Turns a plan into the file → servers assignment, the same on every machine: the operator, every
 * edge agent and the playback API call this with the same (plan, catalog snapshot, servers).
 *
 * Files of the stored set are taken in rank order. File i < cutoff goes on the head ring, the others
 * on the tail ring, at hash(key) (replica c at a position derived from hash(key) and c). The
 * bounded-load pass walks clockwise to the first server with room for the bytes (storage is a hard
 * limit) and for the traffic ((1 + ε) × the server's throughput share of the stored traffic),
 * holding no other replica of the file. If no server on the ring has both, the one with
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
  const { bytes: fileBytes, traffic } = fileArrays(catalog, set.count);
  let headTraffic = 0;
  for (let i = 0; i < cutoff; i++) headTraffic += traffic[i] ?? 0;
  const out = new AssignmentBuilder(catalog.length);
  placementPass(
    {
      positions,
      fileBytes,
      fileTraffic: traffic,
      servers: list,
      headTokens,
      tailTokens,
      stored: set.count,
      cutoff,
      traffic: set.traffic,
      headTraffic,
      bytes: set.bytes,
    },
    out,
  );
  return out.build(names, catalog, set.count, cutoff);
}
