/**
 * The whole steering index built from the real table spread over synthetic clusters: what the
 * service pays when clusters change (parsing announcements, linking routes, both tries).
 */
import { formatCidr } from "../../operator/src/steering/ip.js";
import type { ParsedPrefixes } from "../../operator/src/steering/prefix-list.js";
import type { Announcement, ClusterView } from "../../operator/src/steering/snapshot.js";
import { buildSteeringIndex } from "../../operator/src/steering/steering-index.js";

export type IndexFigures = Readonly<{ clusters: number; announcements: number; indexBuildMs: number; heapMB: number }>;

/** FNV-1a: attributes derived from the prefix text, so every run builds the same clusters. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function syntheticClusters(table: ParsedPrefixes, count: number): ClusterView[] {
  const prefixes: Announcement[][] = Array.from({ length: count }, () => []);
  for (const cidr of [...table.v4, ...table.v6]) {
    const text = formatCidr(cidr);
    const h = hash(text);
    const asPath = Array.from({ length: 1 + (h % 4) }, (_, i) => 64_512 + ((h >>> (4 + i * 3)) % 8));
    prefixes[h % count]?.push({ cidr: text, asPath, med: (h >>> 16) % 100, localPref: 100 + ((h >>> 24) % 3) * 50 });
  }
  return prefixes.map((p, i) => ({
    name: `oca-${String(i).padStart(3, "0")}`,
    region: "bench",
    asn: 64_512 + (i % 8),
    location: { lat: -60 + ((i * 37) % 120), lon: -180 + ((i * 73) % 360) },
    servers: [{ name: `oca-${i}-1`, ipv4: `10.${i >> 8}.${i & 255}.1` }],
    prefixes: p,
  }));
}

export function benchIndexBuild(clusters: readonly ClusterView[]): IndexFigures {
  globalThis.gc?.();
  const heap0 = process.memoryUsage();
  const t0 = performance.now();
  const index = buildSteeringIndex(clusters);
  const indexBuildMs = performance.now() - t0;
  globalThis.gc?.();
  const heap1 = process.memoryUsage();
  const heapMB = (heap1.heapUsed + heap1.arrayBuffers - heap0.heapUsed - heap0.arrayBuffers) / 2 ** 20;
  return {
    clusters: index.clusters.length,
    announcements: index.routes4.count + index.routes6.count,
    indexBuildMs,
    heapMB,
  };
}
