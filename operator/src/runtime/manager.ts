/**
 * The generic controller manager, as controller-runtime's: each controller declares what it reconciles
 * and which changes of which kinds wake which keys (its ControllerSpec: For, Owns, Watches); the manager
 * makes one shared cache per kind, wires every declared watch to the controller's work queue, starts
 * the caches, waits for them to sync under the stop signal, takes the leader Lease and runs the
 * controllers for each term of leadership until the process ends (a lost Lease stops them, and the
 * manager campaigns again once they have stopped). /healthz, /readyz (synced) and /metrics run
 * throughout. It knows nothing of any particular controller.
 */
import type { Server } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { TypedKind } from "../api/index.js";
import { type Caches, Informers } from "./caches.js";
import { type Reconciler, runController } from "./controller.js";
import { startHealthServer } from "./health.js";
import type { KubeClient } from "./kube.js";
import { LeaderElector } from "./leader.js";
import { makeMetrics } from "./metrics.js";
import type { Entry } from "./store.js";
import { WorkQueue } from "./workqueue.js";

/** Which changes of one kind wake a controller, and the keys they wake. */
export type Watch = Readonly<{
  kind: TypedKind<unknown>;
  /** Registers on the shared cache of the kind; `enqueue` adds a key to the controller's queue. */
  subscribe(caches: Caches, enqueue: (key: string) => void): void;
}>;

/** From a changed object (for a deletion: as last seen) to the keys of the objects it affects. */
export type MapFn<T> = (key: string, entry: Entry<T>, caches: Caches) => Iterable<string>;

/**
 * Every change of `kind` (or, with `on: "spec"`, adds, deletes and spec changes only) enqueues the keys
 * `map` returns.
 */
export function watch<T>(kind: TypedKind<T>, map: MapFn<T>, opts: { on?: "change" | "spec" } = {}): Watch {
  return {
    kind,
    subscribe(caches, enqueue) {
      const cache = caches.of(kind);
      const handler = (key: string, entry: Entry<T>) => {
        for (const k of map(key, entry, caches)) enqueue(k);
      };
      if (opts.on === "spec") cache.onSpecChange(handler);
      else cache.onChange(handler);
    },
  };
}

/** The object itself: what `for` maps with. */
export const self = (key: string): string[] => [key];

/**
 * A controller, declared: its name (in logs and metrics), the kind it reconciles (For: a change of an
 * object enqueues its own key), the other changes that concern it (Owns, Watches), and how to make its
 * reconciler from the process's dependencies.
 */
export type ControllerSpec<D> = Readonly<{
  name: string;
  for: Watch;
  watches: readonly Watch[];
  make(deps: D): Reconciler;
  /**
   * How many keys it reconciles at once (controller-runtime's MaxConcurrentReconciles); the manager's
   * `workers` when not given. A controller whose reconciles mostly wait on one API write each (a
   * status) needs more than one whose reconciles compute.
   */
  workers?: number;
}>;

export type ManagerOptions<D> = Readonly<{
  kube: KubeClient;
  log: Logger;
  /** Watch one namespace, or all when undefined. */
  namespace?: string | undefined;
  controllers: readonly ControllerSpec<D>[];
  /** What the controllers' `make` take, built around the process's shared caches. */
  deps: (caches: Caches) => D;
  election: Readonly<{ namespace: string; name: string; identity: string }>;
  health: Readonly<{ port: number; host?: string | undefined }>;
  /** Workers per controller, where its spec does not say (2 by default). */
  workers?: number | undefined;
  /** Registers the process's own metrics, read from its caches at scrape time (every replica, leading or not). */
  collectors?: ((caches: Caches, registry: Registry) => void) | undefined;
}>;

export type RunningManager = Readonly<{ health: Server; done: Promise<void> }>;

/**
 * Starts the caches and the health server, then (in `done`) elects and runs the controllers for each
 * term of leadership until `signal` aborts. `done` resolves once everything has stopped, within moments
 * of `signal` aborting, whether or not the caches ever synced.
 */
export async function startManager<D>(o: ManagerOptions<D>, signal: AbortSignal): Promise<RunningManager> {
  const { log } = o;
  const metrics = makeMetrics();
  const stopCaches = new AbortController();
  const caches = new Informers(o.kube, log, { namespace: o.namespace }, AbortSignal.any([signal, stopCaches.signal]));
  // Each term of leadership drains its own queues (a stopped queue takes no more keys); what changes
  // between terms waits in the next term's queue.
  const controllers = o.controllers.map((spec) => {
    const c = {
      name: spec.name,
      kind: spec.for.kind,
      queue: new WorkQueue(),
      reconciler: spec.make(o.deps(caches)),
      workers: spec.workers,
    };
    for (const w of [spec.for, ...spec.watches]) w.subscribe(caches, (key) => c.queue.add(key));
    return c;
  });
  o.collectors?.(caches, metrics.registry);
  const health = await startHealthServer(o.health.port, o.health.host ?? "0.0.0.0", {
    // Synced is enough: the operator serves nobody, and its reconciles retry through an API outage.
    ready: () => caches.readiness(Date.now(), Number.POSITIVE_INFINITY),
    registry: metrics.registry,
  });

  const elector = new LeaderElector(o.kube, o.election, log);
  const done = elector
    .run(signal, async (leading) => {
      metrics.leader.set({ name: o.election.name }, 1);
      if (await caches.synced(leading)) {
        log.info("caches synced; starting controllers");
        const workers = o.workers ?? 2;
        // Level-triggered: a term starts from every object it reconciles, as an informer's first list
        // does, so nothing changed while another replica led (or none did) is missed.
        for (const c of controllers) for (const e of caches.of(c.kind).entries()) c.queue.add(e.key);
        await Promise.all(
          controllers.map((c) => runController({ ...c, log, metrics, workers: c.workers ?? workers }, leading)),
        );
        for (const c of controllers) c.queue = new WorkQueue();
      }
      metrics.leader.set({ name: o.election.name }, 0);
    })
    .finally(async () => {
      stopCaches.abort();
      await caches.stopped();
      await new Promise((r) => health.close(r));
      log.info({ synced: caches.hasSynced() }, "stopped");
    });
  return { health, done };
}
