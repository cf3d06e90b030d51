/**
 * Steering benchmark: the prefix tables on the real BGP table (build time, memory, lookups/s), the
 * playback API under load on loopback (closed loop at saturation, and open loop at fixed offered rates),
 * and answers while the full-table index rebuilds. Prints figures; never passes or fails on time.
 *
 *   npm run bench:steering -- [--json] [--skip-http] [--skip-rebuild] [--workers N]
 *                             [--rates 5000,8000,...] [--rebuild-rate R] [--abuse]
 *                             [--rebuild-on-loop] [--only abuse|playback|rebuild]
 *
 * `--workers` is the service's worker processes (default: the available cores); `--rates` the open-loop
 * steps (stops past saturation); `--rebuild-rate` the offered rate quiet and during rebuilds (5,000);
 * `--rebuild-on-loop` repeats that with each rebuild on the event loop, the way before the build thread.
 * `--abuse` adds normal clients' latency quiet and under abuse (2,000 slow clients, a flood of requests
 * for distinct manifests); `--only X` runs only that part (no prefix tables).
 */
import { availableParallelism, loadavg } from "node:os";
import { readPrefixFile } from "../operator/src/steering/bgp-file.js";
import { type AbuseFigures, benchAbuse } from "./steering/abuse.js";
import { benchIndexBuild, syntheticClusters } from "./steering/index-build.js";
import { benchLpm } from "./steering/lpm.js";
import {
  benchPlayback,
  benchRebuild,
  type OpenLoopStep,
  type PlaybackFigures,
  type RebuildFigures,
} from "./steering/playback.js";

const argv = process.argv.slice(2);
const args = new Set(argv);
const json = args.has("--json");
const only = argv.includes("--only") ? (argv[argv.indexOf("--only") + 1] ?? "") : "";
const onlyAbuse = only === "abuse";
const log = (s: string) => {
  if (!json) console.log(s);
};
const flag = (name: string, fallback: string) =>
  argv.includes(name) ? (argv[argv.indexOf(name) + 1] ?? fallback) : fallback;
const workers = Number(flag("--workers", String(availableParallelism())));
const rates = flag("--rates", "5000,8000,10000,12000,14000,16000,18000,20000").split(",").map(Number);
const rebuildRate = Number(flag("--rebuild-rate", "5000"));

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
const loadStart = load();
log(`load average at start: ${loadStart} (2 cores shared with other work)`);
/** The prefix tables and the index build on the real table, on this thread. */
async function tables() {
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
    `\nsteering index over ${idx.clusters} clusters, ${idx.announcements} distinct prefixes: built in ${idx.indexBuildMs.toFixed(0)} ms on one thread (the service builds it in a worker thread), ~${idx.heapMB.toFixed(0)} MB`,
  );
  return {
    ipv4LookupsPerSec: Math.round(lpm.chosen.ipv4.randomLookupsPerSec),
    ipv6LookupsPerSec: Math.round(lpm.chosen.ipv6.randomLookupsPerSec),
    buildMs: Math.round(lpm.chosen.ipv4.buildMs + lpm.chosen.ipv6.buildMs),
    tableMB: Number((lpm.chosen.ipv4.tableMB + lpm.chosen.ipv6.tableMB).toFixed(1)),
    ipv4InPrefixLookupsPerSec: Math.round(lpm.chosen.ipv4.inPrefixLookupsPerSec),
    ipv6InPrefixLookupsPerSec: Math.round(lpm.chosen.ipv6.inPrefixLookupsPerSec),
    parseMs: Math.round(parseMs),
    indexBuildMs: Math.round(idx.indexBuildMs),
    indexMB: Math.round(idx.heapMB),
  };
}
const tableFigures = only === "" ? await tables() : undefined;

const stepRow = (s: OpenLoopStep) =>
  `  ${String(s.offered).padStart(6)}  ${String(s.achieved).padStart(8)}  ${s.p50Ms.toFixed(2).padStart(6)}  ${s.p90Ms.toFixed(2).padStart(6)}  ${s.p99Ms.toFixed(2).padStart(7)}  ${s.p999Ms.toFixed(2).padStart(7)}  ${s.serviceP99Ms.toFixed(2).padStart(7)}  ${s.non2xx + s.errors + s.unanswered}   load ${load()}`;
const STEP_HEAD = "  offered  achieved   p50 ms  p90 ms   p99 ms  p99.9 ms  svc p99  failed";

let playback: PlaybackFigures | undefined;
if (!args.has("--skip-http") && (only === "" || only === "playback")) {
  log(
    `\nplayback API open loop (${workers} service workers; a fixed offered rate for 10 s after 2 s of warm-up, 64 connections; latency from each request's intended send time, coordinated omission corrected; svc: from its write):`,
  );
  log(STEP_HEAD);
  playback = await benchPlayback({
    connections: 16,
    durationSec: 10,
    workers,
    rates,
    onStep: (s) => log(stepRow(s)),
  });
  log(`  max sustained (≥ 99 % answered, no failure, p99 ≤ 10 ms): ${playback.maxSustainedReqPerSec} req/s`);
  log(
    `\nplayback API closed loop (${playback.clusters} clusters, ${playback.titles} titles, 8 rungs × 3 clusters of signed URLs; wrk -t1 -c${playback.connections} -d${playback.durationSec}s on loopback, at saturation):`,
  );
  log(
    `  ${playback.playbackReqPerSec.toFixed(0)} req/s, p50 ${playback.playbackP50Ms.toFixed(2)} ms, p99 ${playback.playbackP99Ms.toFixed(2)} ms, non-2xx ${playback.non2xx}`,
  );
}

const rebuildRow = (name: string, r: RebuildFigures) => {
  log(`${stepRow(r.quiet)}   (quiet)`);
  log(`${stepRow(r.rebuilding)}   (${name})`);
  log(
    `  ${r.swaps} indexes swapped in during the run, ${r.meanBuildMs.toFixed(0)} ms each; p99 ${name} ÷ quiet: ${(r.rebuilding.p99Ms / r.quiet.p99Ms).toFixed(2)}`,
  );
  log(
    `  the workers' event loops, worst: quiet ${r.quietLoopMaxMs} ms late at most, p99 ${r.quietLoopP99Ms} ms; ${name} ${r.rebuildingLoopMaxMs} ms at most, p99 ${r.rebuildingLoopP99Ms} ms`,
  );
};

let rebuild: RebuildFigures | undefined;
let rebuildOnLoop: RebuildFigures | undefined;
if (!args.has("--skip-http") && !args.has("--skip-rebuild") && (only === "" || only === "rebuild")) {
  rebuild = await benchRebuild({ workers, clusters: 100, rate: rebuildRate, durationSec: 20 });
  log(
    `\nanswers during index rebuilds (${rebuild.workers} workers, each with the full table over ${rebuild.clusters} clusters, open loop at ${rebuild.rate} req/s for 20 s; rebuilding: every worker rebuilds its index in its build thread over and over and swaps each in):`,
  );
  log(STEP_HEAD);
  rebuildRow("rebuilding", rebuild);
  if (args.has("--rebuild-on-loop")) {
    rebuildOnLoop = await benchRebuild({ workers, clusters: 100, rate: rebuildRate, durationSec: 20, onLoop: true });
    log("\nthe same with each rebuild on the event loop (the way before the build thread):");
    log(STEP_HEAD);
    rebuildRow("on the loop", rebuildOnLoop);
  }
}

const abused = args.has("--abuse") ? await abuseSection() : undefined;

const figures = {
  loadAverageStart: Number(loadStart),
  loadAverageEnd: Number(load()),
  ...tableFigures,
  ...(playback === undefined
    ? {}
    : {
        workers: playback.workers,
        openLoop: playback.openLoop,
        at5000P99Ms: playback.openLoop.find((s) => s.offered === 5000)?.p99Ms,
        maxSustainedReqPerSec: playback.maxSustainedReqPerSec,
        playbackReqPerSec: Math.round(playback.playbackReqPerSec),
        playbackP50Ms: playback.playbackP50Ms,
        playbackP99Ms: playback.playbackP99Ms,
      }),
  ...(rebuild === undefined
    ? {}
    : {
        rebuildRate: rebuild.rate,
        rebuildQuietP99Ms: rebuild.quiet.p99Ms,
        rebuildingP99Ms: rebuild.rebuilding.p99Ms,
        rebuildP99Ratio: Number((rebuild.rebuilding.p99Ms / rebuild.quiet.p99Ms).toFixed(2)),
        rebuildSwaps: rebuild.swaps,
        quietLoopMaxMs: rebuild.quietLoopMaxMs,
        quietLoopP99Ms: rebuild.quietLoopP99Ms,
        rebuildingLoopMaxMs: rebuild.rebuildingLoopMaxMs,
        rebuildingLoopP99Ms: rebuild.rebuildingLoopP99Ms,
        rebuildMeanBuildMs: Math.round(rebuild.meanBuildMs),
        rebuildQuiet: rebuild.quiet,
        rebuilding: rebuild.rebuilding,
      }),
  ...(rebuildOnLoop === undefined
    ? {}
    : {
        onLoopQuietP99Ms: rebuildOnLoop.quiet.p99Ms,
        onLoopRebuildingP99Ms: rebuildOnLoop.rebuilding.p99Ms,
        onLoopSwaps: rebuildOnLoop.swaps,
        onLoopMeanBuildMs: Math.round(rebuildOnLoop.meanBuildMs),
        onLoopLoopMaxMs: rebuildOnLoop.rebuildingLoopMaxMs,
        onLoopLoopP99Ms: rebuildOnLoop.rebuildingLoopP99Ms,
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
