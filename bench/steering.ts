/**
 * Steering benchmark: the prefix tables on the real BGP table (build time, memory, lookups/s) and
 * the playback API under load on loopback. Prints figures; never passes or fails on time.
 *
 *   npm run bench:steering -- [--json] [--skip-http] [--abuse | --only abuse]
 *
 * `--abuse` adds normal clients' latency quiet and under abuse (2,000 slow clients, a flood of requests
 * for distinct manifests); `--only abuse` prints only that (abuse.ts).
 */
import { loadavg } from "node:os";
import { readPrefixFile } from "../operator/src/steering/bgp-file.js";
import { type AbuseFigures, benchAbuse } from "./steering/abuse.js";
import { benchIndexBuild, syntheticClusters } from "./steering/index-build.js";
import { benchLpm } from "./steering/lpm.js";
import { benchPlayback, type PlaybackFigures } from "./steering/playback.js";

const argv = process.argv.slice(2);
const args = new Set(argv);
const json = args.has("--json");
const onlyAbuse = argv.includes("--only") && argv[argv.indexOf("--only") + 1] === "abuse";
const log = (s: string) => {
  if (!json) console.log(s);
};

/** Normal clients' p50/p99 quiet and under abuse, and what the server held meanwhile. */
async function abuseSection(): Promise<AbuseFigures> {
  const a = await benchAbuse({ rate: 500, durationSec: 10, slowClients: 2000, floodPerSec: 2000 });
  const row = (name: string, l: AbuseFigures["quiet"]) =>
    `  ${name.padEnd(7)} p50 ${l.p50Ms.toFixed(1).padStart(6)} ms   p99 ${l.p99Ms.toFixed(1).padStart(7)} ms   ${l.reqPerSec.toFixed(0)} req/s   non-2xx ${l.non2xx}   errors ${l.errors}`;
  log(
    `\nnormal clients under abuse (autocannon -c16 at ${a.rate} req/s for ${a.durationSec} s, a random filled title for a random client; slow: ${a.slowClients} slow clients kept connected; abused: those and ${a.floodPerSec} req/s for random distinct manifests; both from another process):`,
  );
  log(row("quiet", a.quiet));
  log(row("slow", a.slow));
  log(row("abused", a.abuse));
  log(
    `  server at the peak of the abused run: ${a.peakConnections} connections, manifest cache ${(a.peakCacheBytes / 2 ** 20).toFixed(1)} MiB of 256 MiB (${a.cacheEntries} entries at the end); abuser: ${JSON.stringify(a.abuser)}`,
  );
  return a;
}

if (onlyAbuse) {
  log(`load average at start: ${loadavg()[0]?.toFixed(1) ?? "?"} (2 cores shared with other work)`);
  const a = await abuseSection();
  const figures = {
    quietP50Ms: a.quiet.p50Ms,
    quietP99Ms: a.quiet.p99Ms,
    slowOnlyP99Ms: a.slow.p99Ms,
    abusedP50Ms: a.abuse.p50Ms,
    abusedP99Ms: a.abuse.p99Ms,
    abusedNon2xx: a.abuse.non2xx,
    peakConnections: a.peakConnections,
    peakCacheBytes: a.peakCacheBytes,
  };
  console.log(
    json
      ? JSON.stringify(figures)
      : `\nload average at end: ${loadavg()[0]?.toFixed(1) ?? "?"}\n${JSON.stringify(figures, null, 2)}`,
  );
  process.exit(0);
}
const fmtRate = (r: number) => `${(r / 1e6).toFixed(1)}M/s`;

const load = () => loadavg()[0]?.toFixed(1) ?? "?";
log(`load average at start: ${load()} (2 cores shared with other work)`);
const t0 = performance.now();
const table = await readPrefixFile();
const parseMs = performance.now() - t0;
log(
  `parsed ${table.v4.length + table.v6.length} prefixes (${table.v4.length} IPv4, ${table.v6.length} IPv6) in ${parseMs.toFixed(0)} ms`,
);

const lpm = benchLpm(table.v4, table.v6);
log("\nprefix tables (one core; lookups: best of 7 rounds of 4,194,304):");
log("family  strides               build ms  table MB  random      in-prefix");
for (const [family, rows] of [
  ["IPv4", lpm.ipv4],
  ["IPv6", lpm.ipv6],
] as const) {
  for (const r of rows) {
    log(
      `${family.padEnd(8)}${r.strides.padEnd(22)}${r.buildMs.toFixed(0).padStart(8)}  ${r.tableMB.toFixed(1).padStart(8)}  ${fmtRate(r.randomLookupsPerSec).padEnd(12)}${fmtRate(r.inPrefixLookupsPerSec)}`,
    );
  }
}

const idx = benchIndexBuild(syntheticClusters(table, 100));
log(
  `\nsteering index over ${idx.clusters} clusters, ${idx.announcements} distinct prefixes: built in ${idx.indexBuildMs.toFixed(0)} ms, ~${idx.heapMB.toFixed(0)} MB`,
);

let playback: PlaybackFigures | undefined;
if (!args.has("--skip-http")) {
  playback = await benchPlayback({ connections: 16, durationSec: 10 });
  log(
    `\nplayback API (${playback.clusters} clusters, ${playback.titles} titles, 8 rungs × 3 clusters of signed URLs; wrk -t1 -c${playback.connections} -d${playback.durationSec}s on loopback):`,
  );
  log(
    `  ${playback.playbackReqPerSec.toFixed(0)} req/s, p50 ${playback.playbackP50Ms.toFixed(2)} ms, p99 ${playback.playbackP99Ms.toFixed(2)} ms, non-2xx ${playback.non2xx}`,
  );
}

const abused = args.has("--abuse") ? await abuseSection() : undefined;

const figures = {
  ipv4LookupsPerSec: Math.round(lpm.chosen.ipv4.randomLookupsPerSec),
  ipv6LookupsPerSec: Math.round(lpm.chosen.ipv6.randomLookupsPerSec),
  buildMs: Math.round(lpm.chosen.ipv4.buildMs + lpm.chosen.ipv6.buildMs),
  tableMB: Number((lpm.chosen.ipv4.tableMB + lpm.chosen.ipv6.tableMB).toFixed(1)),
  ipv4InPrefixLookupsPerSec: Math.round(lpm.chosen.ipv4.inPrefixLookupsPerSec),
  ipv6InPrefixLookupsPerSec: Math.round(lpm.chosen.ipv6.inPrefixLookupsPerSec),
  parseMs: Math.round(parseMs),
  indexBuildMs: Math.round(idx.indexBuildMs),
  ...(playback === undefined
    ? {}
    : {
        playbackReqPerSec: Math.round(playback.playbackReqPerSec),
        playbackP50Ms: playback.playbackP50Ms,
        playbackP99Ms: playback.playbackP99Ms,
      }),
  ...(abused === undefined
    ? {}
    : {
        quietP99Ms: abused.quiet.p99Ms,
        abusedP99Ms: abused.abuse.p99Ms,
        abusedPeakCacheBytes: abused.peakCacheBytes,
      }),
};
if (json) console.log(JSON.stringify(figures));
else
  log(
    `\nload average at end: ${load()}\n${JSON.stringify(figures, null, 2)}\n\nreproduce: npm run bench:steering -- --json`,
  );
