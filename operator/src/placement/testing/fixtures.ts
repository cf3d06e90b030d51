import type { CatalogFile, Server } from "../types.js";

/** Test fixtures: a server, and the default mix scaled by `scale` (1 = 20 + 80 servers). */
export function server(name: string, storageTB: number, gbps: number): Server {
  return { name, storageBytes: storageTB * 1e12, throughputBitsPerSec: gbps * 1e9 };
}

export function defaultMix(scale = 1): Server[] {
  const out: Server[] = [];
  for (let i = 0; i < 20 * scale; i++) out.push(server(`storage-${String(i).padStart(3, "0")}`, 200, 40));
  for (let i = 0; i < 80 * scale; i++) out.push(server(`flash-${String(i).padStart(3, "0")}`, 18, 100));
  return out;
}

/** A ranked catalog from (bytes, demand) pairs; demands are sorted descending. */
export function ranked(files: readonly (readonly [number, number])[]): CatalogFile[] {
  return [...files]
    .sort((a, b) => b[1] - a[1])
    .map(([bytes, demand], i) => ({ key: `f${String(i).padStart(6, "0")}`, bytes, demand }));
}
