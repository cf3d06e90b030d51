/**
 * A small real fleet on this machine for the player's tests and the real playback bench: edge nginx
 * processes (the operator's rendered configuration, as the edge agent's tests run them) serving one
 * title's synthetic media (the same bytes as the kind origin's, so the Title's sha256 holds), each edge
 * its own cluster, and the steering HTTP service in this process with those clusters live and the
 * title placed on every edge. The client gets a real manifest with signed URLs, ranked edge 0 first.
 */
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Registry } from "prom-client";
import { type MediaFile, mediaSha256, writeMedia } from "../../hack/kind/media.js";
import { LINK_KEY, type RunningNginx, startNginx } from "../../nodes/test/harness.js";
import { createSteeringServer, type SteeringServer } from "../../operator/src/steering/http.js";
import { clusterHealth } from "../../operator/src/steering/liveness.js";
import type { ClusterView, TitleView } from "../../operator/src/steering/snapshot.js";
import { SteeringStore } from "../../operator/src/steering/store.js";
import { telemetryMetrics } from "../../operator/src/steering/telemetry.js";
import { BENCH_LADDER } from "../src/content.js";

export type LocalFleet = Readonly<{
  steeringUrl: string;
  edges: readonly RunningNginx[];
  /** Each edge's self-signed certificate: what the player trusts. */
  ca: readonly Buffer[];
  files: readonly (MediaFile & { sha256: string })[];
  metrics: Registry;
  steering: SteeringServer;
  stop(): Promise<void>;
}>;

export type LocalFleetOptions = Readonly<{
  dir: string;
  titleId: string;
  durationSeconds: number;
  edges: number;
  /** The address clients reach edge i at (127.0.0.1 by default); the edges listen on every address. */
  edgeAddress?: ((i: number) => string) | undefined;
  /** Where steering listens (127.0.0.1). */
  steeringHost?: string | undefined;
}>;

/** The title's video files, as hack/kind/fleet-objects.ts names them. */
export function titleFiles(titleId: string, durationSeconds: number): (MediaFile & { kbps: number; vmaf: number })[] {
  return BENCH_LADDER.map((r) => ({
    path: `${titleId}/video/h264/${r.height}p-${r.kbps}k.mp4`,
    bytes: Math.round((r.kbps * 1000 * durationSeconds) / 8),
    kbps: r.kbps,
    vmaf: r.vmaf,
  }));
}

export async function startLocalFleet(o: LocalFleetOptions): Promise<LocalFleet> {
  const root = join(o.dir, "content");
  const files = titleFiles(o.titleId, o.durationSeconds);
  await writeMedia(files, root);
  const edges: RunningNginx[] = [];
  const stopAll = async () => {
    for (const e of edges) await e.stop();
  };
  try {
    for (let i = 0; i < o.edges; i++) edges.push(await startNginx(join(o.dir, `edge-${i}`), root, { listen: ["*"] }));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const address = o.edgeAddress ?? (() => "127.0.0.1");
  const clusters: ClusterView[] = edges.map((e, i) => ({
    name: `edge-${i}`,
    region: "local",
    asn: 64500 + i,
    location: { lat: 52, lon: 5 },
    servers: [{ name: `edge-${i}-1`, ipv4: address(i) }],
    // Every client matches every cluster; the local preference ranks edge 0 first.
    prefixes: [{ cidr: "0.0.0.0/0", asPath: [], med: 0, localPref: 1000 - i }],
    httpsPort: e.settings.httpsPort,
  }));
  const title: TitleView = {
    id: o.titleId,
    durationSeconds: o.durationSeconds,
    ladder: [
      {
        kind: "video",
        codec: "h264",
        rungs: files.map((f, i) => ({
          path: f.path,
          bitrateKbps: f.kbps,
          resolution: `${Math.round(((BENCH_LADDER[i]?.height ?? 0) * 16) / 9)}x${BENCH_LADDER[i]?.height}`,
          vmaf: f.vmaf,
          bytes: f.bytes,
        })),
      },
    ],
  };
  const store = new SteeringStore();
  store.setClusters(clusters);
  store.setTitles([title]);
  // Every edge holds the test edge's link key (nodes/test/harness.ts), so steering signs each cluster's links with it.
  store.setLinkKeys(new Map(clusters.map((c) => [c.name, { keys: new Map([["k1", LINK_KEY]]), primary: "k1" }])));
  for (const c of clusters) {
    store.setActivePlacement(c.name, () => [`${c.name}-1`]);
    store.recordHeartbeat(
      c.name,
      clusterHealth({ servers: new Map([[`${c.name}-1`, Date.now() + 86_400_000]]), load: 0.1 }),
    );
  }
  const metrics = new Registry();
  const steering = createSteeringServer(
    { maxClusters: Math.min(16, o.edges) },
    { state: () => store.state, now: Date.now, telemetry: telemetryMetrics(metrics) },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      steering.once("error", reject);
      steering.listen(0, o.steeringHost ?? "127.0.0.1", resolve);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const port = (steering.address() as AddressInfo).port;
  return {
    steeringUrl: `http://${o.steeringHost ?? "127.0.0.1"}:${port}`,
    edges,
    ca: edges.map((e) => e.cert),
    files: files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: mediaSha256(f) })),
    metrics,
    steering,
    stop: async () => {
      await new Promise((r) => steering.close(r));
      steering.closeAllConnections();
      await stopAll();
    },
  };
}
