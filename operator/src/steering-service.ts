/**
 * The steering process: informers over OCAClusters, Titles, Popularities, Placements and edge heartbeat
 * Leases feed a SteeringStore, and the steering HTTP service answers from it, with /healthz, /readyz
 * and /metrics on a port of their own. Every steering replica runs this (no leader): it only
 * reads the API. Every cluster's URLs are signed with one key, the one the edge nginx checks.
 *
 * A cluster's files are located with its ACTIVE Placement over the catalog snapshot that Placement was
 * computed for. The snapshot of each active Placement is remembered while it is current; a steering
 * process started after the region's catalog moved on recomputes over the current catalog, where the
 * ring still places nearly every file as before, and says so in its log.
 */
import type { Server } from "node:http";
import type { Logger } from "pino";
import type { z } from "zod";
import { byAge, heartbeatOf, type Kind, Kinds } from "./api/index.js";
import { regionCatalog, regionPopularity } from "./catalog/catalog.js";
import { serversOf } from "./catalog/servers.js";
import { ParsedCache } from "./controllers/parsed.js";

import { buildLadder } from "./ladder/index.js";
import { assign } from "./placement/index.js";
import { startHealthServer } from "./runtime/health.js";
import { Informer } from "./runtime/informer.js";
import type { Kube, KubeObject } from "./runtime/kube.js";
import { makeMetrics } from "./runtime/metrics.js";
import {
  type ClusterView,
  createSteeringServer,
  type LocateFile,
  type SteeringServiceConfig,
  SteeringStore,
} from "./steering/index.js";

export type SteeringOptions = Readonly<{
  kube: Kube;
  log: Logger;
  namespace?: string;
  port: number;
  host?: string;
  healthPort: number;
  config: z.input<typeof SteeringServiceConfig>;
  /** The URL-signing key (the chart mounts it from the Secret the edge nginx reads too). */
  signingKey: string;
}>;

export async function startSteering(
  o: SteeringOptions,
  signal: AbortSignal,
): Promise<{ server: Server; health: Server; done: Promise<void> }> {
  const { kube, log } = o;
  const store = new SteeringStore();
  const inf = (kind: Kind) => new Informer<KubeObject>(kube, kind, log, { namespace: o.namespace });
  const clusters = inf(Kinds.OCACluster);
  const titles = inf(Kinds.Title);
  const popularities = inf(Kinds.Popularity);
  const placements = inf(Kinds.Placement);
  const leases = inf(Kinds.Lease);
  const informers = [clusters, titles, popularities, placements, leases];
  const running = informers.map((i) => i.run(signal));
  let synced = false;
  const metrics = makeMetrics();
  const health = await startHealthServer(o.healthPort, o.host ?? "0.0.0.0", {
    ready: () => synced,
    registry: metrics.registry,
  });
  await Promise.all(informers.map((i) => i.synced()));
  synced = true;

  const located = new Map<string, { placement: string; locate: LocateFile }>();
  const parsed = {
    clusters: new ParsedCache("OCACluster"),
    titles: new ParsedCache("Title"),
    pops: new ParsedCache("Popularity"),
    placements: new ParsedCache("Placement"),
  };

  const refreshClusters = () => {
    const cs = parsed.clusters.all(clusters.list());
    const views: ClusterView[] = cs.map((c) => ({
      name: c.metadata.name,
      region: c.spec.region,
      asn: c.spec.site.asn,
      location: c.spec.location,
      servers: c.spec.servers,
      prefixes: c.spec.prefixes,
      httpsPort: c.spec.edge.httpsPort,
    }));
    try {
      store.setClusters(views);
    } catch (err) {
      log.error({ err }, "cluster announcements rejected; keeping the previous prefix table");
    }
    for (const c of cs) store.setLinkSecret(c.metadata.name, o.signingKey);
  };

  const refreshTitles = () => {
    store.setTitles(
      parsed.titles
        .all(titles.list())
        .map((t) => ({ id: t.spec.id, ladder: t.status?.ladder ?? buildLadder(t.spec.files) })),
    );
  };

  const refreshPlacements = () => {
    const cs = parsed.clusters.all(clusters.list());
    const ts = parsed.titles.all(titles.list());
    const pops = parsed.pops.all(popularities.list());
    const ps = parsed.placements.all(placements.list());
    for (const c of cs) {
      const ns = c.metadata.namespace;
      const active = ps
        .filter(
          (p) => p.metadata.namespace === ns && p.spec.cluster === c.metadata.name && p.status?.phase === "Active",
        )
        .sort(byAge)
        .at(-1);
      const key = `${ns}/${c.metadata.name}`;
      if (!active) {
        located.delete(key);
        store.setActivePlacement(c.metadata.name, undefined);
        continue;
      }
      if (located.get(key)?.placement === active.metadata.name) continue;
      const catalog = regionCatalog(
        c.spec.region,
        ts.filter((t) => t.metadata.namespace === ns),
        regionPopularity(
          pops.filter((p) => p.metadata.namespace === ns),
          c.spec.region,
        ),
      );
      if (catalog.generation !== active.spec.catalogGeneration) {
        log.warn(
          { cluster: key, placement: active.metadata.name },
          "catalog moved on since this placement; locating over the current catalog",
        );
      }
      const assignment = assign(active.spec, catalog.files, serversOf(c.spec));
      // Paths are unique across titles (the fill agent refuses otherwise): a rung's path names its file.
      const keyOf = new Map(catalog.files.map((f) => [f.key.slice(f.key.indexOf("/") + 1), f.key]));
      const locate: LocateFile = (path, spread) => {
        const k = keyOf.get(path);
        const holders = k === undefined ? [] : assignment.holdersOf(k);
        return holders[spread % Math.max(1, holders.length)];
      };
      located.set(key, { placement: active.metadata.name, locate });
      store.setActivePlacement(c.metadata.name, locate);
    }
  };

  const refreshHealth = () => {
    const capacity = new Map(
      parsed.clusters
        .all(clusters.list())
        .map((c) => [c.metadata.name, serversOf(c.spec).reduce((a, s) => a + s.throughputBitsPerSec, 0)]),
    );
    const byCluster = new Map<string, { at: number; bitsPerSec: number }>();
    for (const l of leases.list()) {
      const hb = heartbeatOf(l);
      if (!hb) continue;
      const cur = byCluster.get(hb.cluster) ?? { at: 0, bitsPerSec: 0 };
      byCluster.set(hb.cluster, {
        at: Math.max(cur.at, hb.renewTime.getTime()),
        bitsPerSec: cur.bitsPerSec + (hb.load?.bytesPerSec ?? 0) * 8,
      });
    }
    for (const [cluster, h] of byCluster) {
      const cap = capacity.get(cluster);
      if (cap) store.recordHeartbeat(cluster, { heartbeatAtMs: h.at, load: Math.min(1, h.bitsPerSec / cap) });
    }
  };

  // Coalesce bursts of informer events (an initial list, a daily catalog update) into one refresh.
  let pending: NodeJS.Timeout | undefined;
  const dirty = new Set<"clusters" | "titles" | "placements" | "health">();
  const schedule = (what: "clusters" | "titles" | "placements" | "health") => {
    dirty.add(what);
    pending ??= setTimeout(() => {
      pending = undefined;
      const todo = new Set(dirty);
      dirty.clear();
      try {
        if (todo.has("clusters")) refreshClusters();
        if (todo.has("titles")) refreshTitles();
        if (todo.has("clusters") || todo.has("titles") || todo.has("placements")) refreshPlacements();
        if (todo.has("clusters") || todo.has("health")) refreshHealth();
      } catch (err) {
        log.error({ err }, "steering refresh failed");
      }
    }, 50);
  };
  clusters.onChange(() => schedule("clusters"));
  titles.onChange(() => schedule("titles"));
  popularities.onChange(() => schedule("placements"));
  placements.onChange(() => schedule("placements"));
  leases.onChange(() => schedule("health"));
  refreshClusters();
  refreshTitles();
  refreshPlacements();
  refreshHealth();

  const server = createSteeringServer(o.config, { state: () => store.state, now: Date.now, log });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host ?? "0.0.0.0", resolve);
  });
  const done = (async () => {
    await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    clearTimeout(pending);
    await new Promise((r) => server.close(r));
    await new Promise((r) => health.close(r));
    await Promise.all(running);
  })();
  return { server, health, done };
}
