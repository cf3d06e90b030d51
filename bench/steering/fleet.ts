/**
 * A synthetic fleet for the playback benchmark: clusters announcing a sample of the real BGP table,
 * titles with a ladder each, and per cluster a real HCA placement (operator/src/placement) of the
 * catalog, of which the last titles are left out as "not filled yet".
 */
import { assign } from "../../operator/src/placement/assign.js";
import { planHca } from "../../operator/src/placement/hca.js";
import type { CatalogFile, Server } from "../../operator/src/placement/types.js";
import type { Cidr } from "../../operator/src/steering/ip.js";
import type { ParsedPrefixes } from "../../operator/src/steering/prefix-list.js";
import type { ClusterView, LocateFile, TitleView } from "../../operator/src/steering/snapshot.js";
import { syntheticClusters } from "./index-build.js";

export type Fleet = Readonly<{
  clusters: ClusterView[];
  titles: TitleView[];
  placements: Map<string, LocateFile>;
  /** Client addresses inside announced prefixes, for the load generator. */
  clients: string[];
}>;

const VIDEO_RUNGS = [
  ["640x360", 600],
  ["960x540", 1200],
  ["1280x720", 2400],
  ["1920x1080", 4500],
  ["2560x1440", 8000],
  ["3840x2160", 15000],
] as const;
const AUDIO_RUNGS = [96, 192] as const;

function title(id: string): TitleView {
  return {
    id,
    ladder: [
      {
        kind: "video",
        codec: "av1",
        rungs: VIDEO_RUNGS.map(([resolution, bitrateKbps], i) => ({
          path: `${id}/video/av1-${resolution}.mp4`,
          bitrateKbps,
          resolution,
          vmaf: 60 + i * 7,
        })),
      },
      {
        kind: "audio",
        codec: "aac",
        rungs: AUDIO_RUNGS.map((bitrateKbps) => ({ path: `${id}/audio/aac-${bitrateKbps}.m4a`, bitrateKbps })),
      },
    ],
  };
}

function clientIn(p: Cidr, k: number): string {
  if (p.address.family === 4) {
    const [w] = p.address.words;
    const host = p.length >= 32 ? 0 : (k * 2654435761) >>> p.length;
    const a = (w | host) >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const [w0, w1] = p.address.words;
  return `${(w0 >>> 16).toString(16)}:${(w0 & 0xffff).toString(16)}:${(w1 >>> 16).toString(16)}:${(w1 & 0xffff).toString(16)}::${(k & 0xffff).toString(16)}`;
}

/**
 * `prefixShare` of the real table (every n-th prefix) spread over `clusterCount` clusters of 4
 * servers; `titleCount` titles of which the last `unfilled` are missing from every active placement.
 */
export function buildFleet(
  table: ParsedPrefixes,
  o: { clusterCount: number; everyNthPrefix: number; titleCount: number; unfilled: number },
): Fleet {
  const sample = {
    v4: table.v4.filter((_, i) => i % o.everyNthPrefix === 0),
    v6: table.v6.filter((_, i) => i % o.everyNthPrefix === 0),
  };
  const clusters = syntheticClusters(sample, o.clusterCount).map((c, i) => ({
    ...c,
    servers: Array.from({ length: 4 }, (_, j) => ({
      name: `${c.name}-${j}`,
      ipv4: `10.${i >> 6}.${((i & 63) << 2) | j}.1`,
      ipv6: `2001:db8:${i.toString(16)}::${j + 1}`,
    })),
  }));
  const titles = Array.from({ length: o.titleCount }, (_, i) => title(`title-${i}`));
  const filled = titles.slice(0, titles.length - o.unfilled);
  // Zipf(0.8) demand over titles, split across each title's files by bitrate.
  const catalog: CatalogFile[] = filled
    .flatMap((t, rank) =>
      t.ladder.flatMap((e) =>
        e.rungs.map((r) => ({
          key: r.path,
          bytes: Math.round(r.bitrateKbps * 125 * 3600),
          demand: 1 / (rank + 1) ** 0.8 / r.bitrateKbps,
        })),
      ),
    )
    .sort((a, b) => b.demand - a.demand || (a.key < b.key ? -1 : 1));
  const placements = new Map<string, LocateFile>();
  for (const c of clusters) {
    const servers: Server[] = c.servers.map((s) => ({
      name: s.name,
      storageBytes: 200 * 2 ** 40,
      throughputBitsPerSec: 40e9,
    }));
    const { plan } = planHca({ cluster: c.name, servers, catalog });
    const assignment = assign(plan, catalog, servers);
    placements.set(c.name, (path) => assignment.holdersOf(path));
  }
  const prefixes = [...sample.v4, ...sample.v6];
  const clients = Array.from({ length: 4096 }, (_, k) => {
    const p = prefixes[(k * 7919) % prefixes.length];
    return p === undefined ? "192.0.2.1" : clientIn(p, k);
  });
  return { clusters, titles, placements, clients };
}
