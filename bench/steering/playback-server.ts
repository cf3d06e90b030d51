/**
 * The steering service under test, in its own process so the load generator does not share its
 * event loop; with STEERING_BENCH_WORKERS > 1 (default: the available cores) a node:cluster primary
 * forks that many workers sharing the port, each with its own copy of the fleet, as the service runs
 * (process.ts). Prints "listening <port> <clients file> <clusters> <titles>" once every worker listens;
 * exits on SIGTERM.
 *
 *   STEERING_BENCH_WORKERS, STEERING_BENCH_CLUSTERS (50), STEERING_BENCH_EVERY_NTH (10: every 10th
 *   table prefix is announced), STEERING_BENCH_STATS=1 (cache and connections twice a second, one worker),
 *   STEERING_BENCH_BUILD_ON_LOOP=1 (rebuilds on the event loop, as before index-builder.ts: to compare)
 *
 * SIGUSR2 toggles rebuilds: from the first, each worker rebuilds its whole index over and over in its
 * index-build thread (index-builder.ts, as the service does when an OCACluster changes) and swaps each
 * one in; at the second it stops and prints "rebuilt <swaps> <mean build ms> <loop p99 ms> <loop max ms>"
 * (one line per worker; the event loop's delay while rebuilding), having printed "loop quiet <p99 ms>
 * <max ms>" (since it listened) at the first.
 */
import cluster from "node:cluster";
import { writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { readPrefixFile } from "../../operator/src/steering/bgp-file.js";
import { createSteeringServer } from "../../operator/src/steering/http.js";
import { IndexBuilder } from "../../operator/src/steering/index-builder.js";
import { clusterHealth } from "../../operator/src/steering/liveness.js";
import { SteeringStore } from "../../operator/src/steering/store.js";
import { buildFleet } from "./fleet.js";

const workers = Number(process.env.STEERING_BENCH_WORKERS ?? availableParallelism());
type Listening = { port: number; clients: string; clusters: number; titles: number };

if (cluster.isPrimary && workers > 1) {
  const ready: Listening[] = [];
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork({ STEERING_BENCH_STATS: i === 0 ? (process.env.STEERING_BENCH_STATS ?? "") : "" });
    w.on("message", (m: Listening) => {
      ready.push(m);
      if (ready.length === workers) console.log(`listening ${m.port} ${m.clients} ${m.clusters} ${m.titles}`);
    });
  }
  cluster.on("exit", (_w, code, sig) => {
    if (!stopping) console.error(`a bench worker exited (${code ?? sig})`);
  });
  let stopping = false;
  process.on("SIGUSR2", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGUSR2");
  });
  process.on("SIGTERM", () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500).unref();
  });
} else {
  await serve();
}

async function serve(): Promise<void> {
  const everyNthPrefix = Number(process.env.STEERING_BENCH_EVERY_NTH ?? "10");
  const clusterCount = Number(process.env.STEERING_BENCH_CLUSTERS ?? "50");
  const table = await readPrefixFile();
  const fleet = buildFleet(table, { clusterCount, everyNthPrefix, titleCount: 500, unfilled: 50 });
  const store = new SteeringStore();
  store.setClusters(fleet.clusters);
  store.setTitles(fleet.titles);
  for (const [name, locate] of fleet.placements) store.setActivePlacement(name, locate);
  store.setLinkKeys(
    new Map(fleet.clusters.map((c, i) => [c.name, { keys: new Map([["k1", Buffer.alloc(32, i)]]), primary: "k1" }])),
  );
  // Every server live, and each beat a new health object per cluster, as the feed's refreshes make them.
  const beat = () => {
    for (const c of fleet.clusters) {
      const servers = new Map(c.servers.map((s) => [s.name, Number.POSITIVE_INFINITY]));
      store.recordHeartbeat(c.name, clusterHealth({ servers, load: 0.3 }));
    }
  };
  beat();
  setInterval(beat, 1000).unref();

  const server = createSteeringServer(
    { trustedProxies: ["127.0.0.0/8"], regionDefault: { lat: 50, lon: 8 } },
    { state: () => store.state, now: Date.now },
  );
  const clientsFile = join(tmpdir(), `steering-bench-clients-${process.pid}.txt`);
  writeFileSync(clientsFile, `${fleet.clients.join("\n")}\n`);
  server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;
    const m: Listening = { port, clients: clientsFile, clusters: fleet.clusters.length, titles: fleet.titles.length };
    if (process.send !== undefined) process.send(m);
    else console.log(`listening ${m.port} ${m.clients} ${m.clusters} ${m.titles}`);
  });
  // With STEERING_BENCH_STATS=1, what the abuse benchmark reads: the manifest cache's bytes (as it
  // charges them) and entries, and the connections held, twice a second.
  if (process.env.STEERING_BENCH_STATS === "1") {
    setInterval(() => {
      server.getConnections((_err, n) => {
        console.log(`stats ${server.manifestCache.bytes} ${server.manifestCache.entries} ${n}`);
      });
    }, 500).unref();
  }

  const builder = new IndexBuilder();
  const onLoop = process.env.STEERING_BENCH_BUILD_ON_LOOP === "1";
  let rebuilding: Promise<{ swaps: number; ms: number }> | undefined;
  let stop = false;
  // How late the event loop runs: what a build on it would show (seconds), and what a build off it must not.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const loopStats = () => `${(loop.percentile(99) / 1e6).toFixed(1)} ${(loop.max / 1e6).toFixed(1)}`;
  process.on("SIGUSR2", () => {
    if (rebuilding === undefined) {
      console.log(`loop quiet ${loopStats()}`);
      loop.reset();
      stop = false;
      rebuilding = (async () => {
        let swaps = 0;
        const t0 = performance.now();
        // A cluster's prefixes moving to the end of the list each time: a new input, the same routes.
        for (let k = 0; !stop; k++) {
          const clusters = fleet.clusters.map((c, i) =>
            i === k % fleet.clusters.length ? { ...c, prefixes: [...c.prefixes].reverse() } : c,
          );
          if (onLoop) {
            store.setClusters(clusters); // the old way: the whole build on the event loop
            await new Promise((r) => setImmediate(r));
          } else store.setIndex(await builder.build(clusters));
          swaps++;
        }
        return { swaps, ms: (performance.now() - t0) / Math.max(1, swaps) };
      })();
    } else {
      stop = true;
      void rebuilding.then(({ swaps, ms }) => console.log(`rebuilt ${swaps} ${ms.toFixed(0)} ${loopStats()}`));
      rebuilding = undefined;
    }
  });
  process.on("SIGTERM", () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
