/**
 * The steering process: shared caches of OCAClusters, Titles, Popularities, Placements and heartbeat
 * Leases feed a SteeringStore (feed.ts), and the steering HTTP service (http.ts) answers from it, with
 * /healthz, /readyz and /metrics on a port of their own. Every steering replica runs this (no leader):
 * it only reads the API. It listens once the caches have synced; a stop before that (a CRD not
 * installed, RBAC missing for a kind) ends it without ever listening.
 */
import type { Server } from "node:http";
import type { Logger } from "pino";
import type { z } from "zod";
import { Kinds } from "../api/index.js";
import { Informers } from "../runtime/caches.js";
import { startHealthServer } from "../runtime/health.js";
import type { Kube } from "../runtime/kube.js";
import { makeMetrics } from "../runtime/metrics.js";
import { SteeringFeed } from "./feed.js";
import { createSteeringServer, type SteeringServiceConfig } from "./http.js";
import { SteeringStore } from "./store.js";

export type SteeringOptions = Readonly<{
  kube: Pick<Kube, "list" | "watch">;
  log: Logger;
  namespace?: string | undefined;
  port: number;
  host?: string | undefined;
  healthPort: number;
  config: z.input<typeof SteeringServiceConfig>;
  /** The URL-signing key (the chart mounts it from the Secret the edge nginx reads too). */
  signingKey: string;
}>;

export type RunningSteering = Readonly<{
  /** Listening once the caches synced; never, when the process was stopped before. */
  server: Server;
  health: Server;
  done: Promise<void>;
}>;

export async function startSteering(o: SteeringOptions, signal: AbortSignal): Promise<RunningSteering> {
  const { log } = o;
  const host = o.host ?? "0.0.0.0";
  const informers = new Informers(o.kube, log, { namespace: o.namespace }, signal);
  const store = new SteeringStore();
  const feed = new SteeringFeed(
    store,
    {
      clusters: informers.of(Kinds.OCACluster),
      titles: informers.of(Kinds.Title),
      popularities: informers.of(Kinds.Popularity),
      placements: informers.of(Kinds.Placement),
      leases: informers.of(Kinds.Lease),
    },
    { signingKey: o.signingKey, log },
  );
  const metrics = makeMetrics();
  const health = await startHealthServer(o.healthPort, host, {
    ready: () => informers.readiness(Date.now(), Number.POSITIVE_INFINITY),
    registry: metrics.registry,
  });
  const server = createSteeringServer(o.config, { state: () => store.state, now: Date.now, log });
  if (await informers.synced(signal)) {
    feed.refreshAll();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port, host, resolve);
    });
  }
  const done = (async () => {
    if (!signal.aborted) await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    feed.stop();
    if (server.listening) await new Promise((r) => server.close(r));
    await new Promise((r) => health.close(r));
    await informers.stopped();
    log.info({ synced: informers.hasSynced() }, "steering stopped");
  })();
  return { server, health, done };
}
