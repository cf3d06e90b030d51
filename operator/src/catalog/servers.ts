/**
 * The placement engine's view of an OCACluster's servers: each one's storage and throughput from its
 * class. The operator plans with it, the edge agents fill with it and steering locates files with it:
 * all three must see the same servers, so there is one of it.
 */
import { type OCAClusterSpec, parseBitsPerSecond, parseBytes } from "../api/index.js";
import type { Server } from "../placement/index.js";

/** The placement engine's view of the servers: capacities from their classes. */
export function serversOf(spec: OCAClusterSpec): Server[] {
  const classes = new Map(spec.serverClasses.map((c) => [c.name, c]));
  return spec.servers.map((s) => {
    const c = classes.get(s.class);
    if (!c) throw new Error(`spec.servers: class ${s.class} of ${s.name} is not in spec.serverClasses`);
    return {
      name: s.name,
      storageBytes: parseBytes(c.storage),
      throughputBitsPerSec: parseBitsPerSecond(c.throughput),
    };
  });
}
