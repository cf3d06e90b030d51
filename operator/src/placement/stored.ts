import type { CatalogFile, Server } from "./types.js";

/**
 * Constants of the algorithm. Every holder of a plan must use the same values to compute the same
 * assignment, so they are part of the algorithm's version, not options.
 */
export const HCA = Object.freeze({
  /** ε: on each ring no server carries more than (1 + ε) × its token share of that ring's traffic. */
  loadBound: 0.04,
  /** The stored set fills at most this fraction of the cluster; the rest is room for spills and replicas. */
  fillLimit: 0.95,
  /** Tokens per server, on average, on each ring of a fresh plan. */
  tokensPerServer: 1000,
  /**
   * Hot files are split into replicas carrying about R ÷ this each: 0.15 % of an average server's
   * traffic at 100 servers, 0.3 % at 200, fine enough that token calibration can hit a server's load
   * within 1 %. It does not depend on the number of servers, so a server joining or leaving changes no
   * replica count through it (replicas.ts).
   */
  pieces: 65536,
});

/**
 * The part of the catalog the cluster stores: the longest ranked prefix whose bytes fit in
 * fillLimit × Σ storage. Files past it are served by the upper tier and are not holes.
 */
export type StoredSet = Readonly<{ count: number; bytes: number; traffic: number }>;

/** A file's traffic: plays × bytes per play. */
export function fileTraffic(f: CatalogFile): number {
  return f.demand * f.bytes;
}

export function storedSet(catalog: readonly CatalogFile[], servers: readonly Server[]): StoredSet {
  let capacity = 0;
  for (const s of servers) capacity += s.storageBytes;
  const budget = HCA.fillLimit * capacity;
  let count = 0;
  let bytes = 0;
  let traffic = 0;
  for (; count < catalog.length; count++) {
    const f = catalog[count];
    if (f === undefined || bytes + f.bytes > budget) break;
    bytes += f.bytes;
    traffic += fileTraffic(f);
  }
  return { count, bytes, traffic };
}
