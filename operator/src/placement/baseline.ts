import { type Assignment, AssignmentBuilder } from "./assignment.js";
import { keyPosition } from "./hash.js";
import { Ring } from "./ring.js";
import { storedSet } from "./stored.js";
import type { CatalogFile, Server } from "./types.js";
import { canonicalServers } from "./validate.js";

/**
 * The plain consistent-hashing baseline HCA is compared with: every stored file on the owner of its
 * key on one ring, `tokens[j]` tokens for the j-th server in name order, no capacity check (so it
 * can overflow). Used by the benchmark and by `edgefleet plan --svg`.
 */
export function ringAssign(
  catalog: readonly CatalogFile[],
  servers: readonly Server[],
  tokens: (s: Server) => number,
): Assignment {
  const list = canonicalServers(servers);
  const ring = Ring.build(
    list.map((s) => s.name),
    list.map(tokens),
  );
  const set = storedSet(catalog, list);
  const out = new AssignmentBuilder(catalog.length);
  for (let i = 0; i < set.count; i++) {
    const j = ring.lookup(keyPosition(catalog[i]?.key ?? ""));
    if (j >= 0) out.push(j);
    out.next();
  }
  return out.build(list, catalog, set.count, 0);
}

/** Tokens per server of the uniform ring in DESIGN.md's anchor (~1.2× peak/mean at 100 servers). */
export const UNIFORM_TOKENS = 160;
