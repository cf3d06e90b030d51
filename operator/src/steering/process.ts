/**
 * The steering process: shared caches of OCAClusters, Titles, Popularities, Placements and heartbeat
 * Leases feed a SteeringStore (feed.ts), and the steering HTTP service (http.ts) answers from it, with
 * /healthz, /readyz and /metrics on a port of their own. Every steering replica runs this (no leader):
 * it only reads the API.
 *
 * It listens at once and answers 503 NotSynced until the caches have synced and filled the store; a
 * stop before that (an API server that is away, a CRD not installed, RBAC missing for a kind) ends it
 * within moments. While its heartbeat watch is down it answers from its last view (freshness.ts), for at
 * most the configured bound; /readyz fails, naming the kinds, once any watch has been down for longer
 * than `watchGraceMs`.
 */
import cluster from "node:cluster";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { z } from "zod";
import { Kinds } from "../api/index.js";
import type { Readiness } from "../runtime/caches.js";
import { Informers } from "../runtime/caches.js";
import { startHealthServer } from "../runtime/health.js";
import type { WatchHealth } from "../runtime/informer.js";
import type { Kube } from "../runtime/kube.js";
import { makeMetrics } from "../runtime/metrics.js";
import { SteeringFeed } from "./feed.js";
import type { FleetView } from "./freshness.js";
import {
  createSteeringServer,
  parseSteeringConfig,
  type SteeringServer,
  type SteeringServiceConfig,
  type SteeringServiceDeps,
} from "./http.js";
import { IndexBuilder } from "./index-builder.js";
import type { LinkKeySource } from "./link-keys.js";
import { SteeringStore } from "./store.js";
import { telemetryMetrics } from "./telemetry.js";
import { reportToPrimary } from "./workers.js";

export type SteeringOptions = Readonly<{
  kube: Pick<Kube, "list" | "watch">;
  log: Logger;
  namespace?: string | undefined;
  port: number;
  host?: string | undefined;
  /** Where /healthz, /readyz and /metrics listen; "primary": a worker, the node:cluster primary serves them (workers.ts). */
  healthPort: number | "primary";
  config: z.input<typeof SteeringServiceConfig>;
  /** The master URL-signing keys (the chart mounts their Secret; cli/ reads it again as it changes). */
  linkKeys: LinkKeySource;
  /** How long a watch may be down before /readyz fails; 15 s. */
  watchGraceMs?: number | undefined;
  /** How long open connections may finish their request after the stop before they are closed; 1 s. */
  drainMs?: number | undefined;
}>;

export type RunningSteering = Readonly<{
  /** Listening from the start: 503 NotSynced until the store is filled. */
  server: SteeringServer;
  /** Undefined in a worker: its primary serves the probes. */
  health: Server | undefined;
  done: Promise<void>;
}>;

export async function startSteering(o: SteeringOptions, signal: AbortSignal): Promise<RunningSteering> {
  const { log } = o;
  const host = o.host ?? "0.0.0.0";
  const config = parseSteeringConfig(o.config);
  const informers = new Informers(o.kube, log, { namespace: o.namespace }, signal);
  const store = new SteeringStore();
  const indexBuilder = new IndexBuilder();
  const feed = new SteeringFeed(
    store,
    {
      clusters: informers.of(Kinds.OCACluster),
      titles: informers.of(Kinds.Title),
      popularities: informers.of(Kinds.Popularity),
      placements: informers.of(Kinds.Placement),
      leases: informers.of(Kinds.Lease),
      watches: informers,
    },
    { linkKeys: o.linkKeys, log, maxOutageCreditMs: config.staleWhileErrorSeconds * 1000, indexBuilder },
  );
  let filled = false;
  const view = (): FleetView => fleetView(filled, informers.health());
  const metrics = makeMetrics();
  const ready = (): Readiness => {
    const r = informers.readiness(Date.now(), o.watchGraceMs ?? 15_000);
    // Synced caches are not enough: the first prefix index is still building in its thread.
    return r.ok && !filled ? { ok: false, reason: "the prefix index is being built" } : r;
  };
  const health =
    o.healthPort === "primary"
      ? undefined
      : await startHealthServer(o.healthPort, host, { ready, registry: metrics.registry });
  const stopReporting = o.healthPort === "primary" ? reportToPrimary(ready, metrics.registry) : () => {};
  const telemetry = telemetryMetrics(metrics.registry);
  const observe = steeringRequestMetrics(metrics.registry);
  const server = createSteeringServer(config, {
    state: () => store.state,
    now: Date.now,
    view,
    log,
    telemetry,
    observe,
    worker: o.healthPort === "primary" ? cluster.worker?.id : undefined,
  });
  steeringGauges(metrics.registry, view, server);
  await listen(server, o.port, host).catch(async (err: unknown) => {
    stopReporting();
    await close(health, 0);
    throw err;
  });
  log.info({ address: server.address(), health: health?.address() }, "steering listening");
  const done = (async () => {
    if (await informers.synced(signal)) {
      await feed.refreshAll();
      filled = true;
      log.info("caches synced; steering answers");
    }
    if (!signal.aborted) await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    feed.stop();
    stopReporting();
    await Promise.all([close(server, o.drainMs ?? 1000), close(health, 0), indexBuilder.stop()]);
    await informers.stopped();
    log.info({ synced: filled }, "steering stopped");
  })();
  return { server, health, done };
}

/** Requests by API and status code, and their latency: what the steering alerts and dashboard read. */
function steeringRequestMetrics(registry: Registry): NonNullable<SteeringServiceDeps["observe"]> {
  const requests = new Counter({
    name: "edgefleet_steering_requests_total",
    help: "Steering and playback answers by API (steering, playback, other) and HTTP status code",
    labelNames: ["route", "code"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "edgefleet_steering_request_duration_seconds",
    help: "Time from a request's arrival to its answer written, by API",
    labelNames: ["route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return ({ route, code, seconds }) => {
    requests.inc({ route, code: String(code) });
    duration.observe({ route }, seconds);
  };
}

/** What an operator alerts on: how stale the view is, and what the manifest cache holds. */
function steeringGauges(registry: Registry, view: () => FleetView, server: SteeringServer): void {
  new Gauge({
    name: "edgefleet_steering_stale_seconds",
    help: "Seconds since steering's heartbeat watch broke (0 while it runs): answers come from its last view",
    registers: [registry],
    // Across workers (workers.ts) the stalest one, not the sum.
    aggregator: "max",
    collect() {
      const since = view().leasesDownSinceMs;
      this.set(since === undefined ? 0 : (Date.now() - since) / 1000);
    },
  });
  new Gauge({
    name: "edgefleet_steering_manifest_cache_bytes",
    help: "Bytes the manifest cache holds, as it charges them (body, key, per-entry overhead)",
    registers: [registry],
    collect() {
      this.set(server.manifestCache.bytes);
    },
  });
}

/** What the HTTP service knows of its view: filled yet, and since when the heartbeat watch is down. */
function fleetView(filled: boolean, watches: readonly WatchHealth[]): FleetView {
  return {
    synced: filled,
    waitingFor: filled ? [] : watches.filter((w) => !w.synced).map((w) => w.kind),
    leasesDownSinceMs: watches.find((w) => w.kind === Kinds.Lease.plural)?.downSinceMs,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Stops taking connections, closes idle ones, and gives those mid-request `drainMs` before closing
 * them too: a slow or stalled client must not hold the stop past its grace period.
 */
async function close(server: Server | undefined, drainMs: number): Promise<void> {
  if (server === undefined || !server.listening) return;
  const closed = new Promise((r) => server.close(r));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), drainMs);
  await closed;
  clearTimeout(timer);
}
