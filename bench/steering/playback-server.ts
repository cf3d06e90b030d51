/**
 * The steering service under test, in its own process so the load generator does not share its
 * event loop. Prints "listening <port> <clients file>" once ready; exits on SIGTERM.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPrefixFile } from "../../operator/src/steering/bgp-file.js";
import { createSteeringServer } from "../../operator/src/steering/http.js";
import { clusterHealth } from "../../operator/src/steering/liveness.js";
import { SteeringStore } from "../../operator/src/steering/store.js";
import { buildFleet } from "./fleet.js";

const everyNthPrefix = Number(process.env.STEERING_BENCH_EVERY_NTH ?? "10");
const table = await readPrefixFile();
const fleet = buildFleet(table, { clusterCount: 50, everyNthPrefix, titleCount: 500, unfilled: 50 });
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
  console.log(`listening ${port} ${clientsFile} ${fleet.clusters.length} ${fleet.titles.length}`);
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
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
