/**
 * The operator process: informers for every kind the controllers read, one work queue and reconciler
 * per controller, event handlers that map a change to the keys it affects, Lease leader election,
 * /healthz /readyz /metrics, and a clean stop when the signal aborts (SIGTERM in cli/).
 */
import type { Server } from "node:http";
import type { Logger } from "pino";
import { clusterLabel, type Kind, Kinds } from "./api/index.js";
import { makeEdgeReconciler } from "./controllers/edge.js";
import { makeFillReconciler } from "./controllers/fill.js";
import { placementLabel } from "./controllers/fill-plan.js";
import { makeOCAClusterReconciler } from "./controllers/ocacluster.js";
import { makePopularityReconciler } from "./controllers/popularity.js";
import { makeTitleReconciler } from "./controllers/title.js";
import { planHca } from "./placement/index.js";
import { type Reconciler, runController } from "./runtime/controller.js";
import { startHealthServer } from "./runtime/health.js";
import { Informer } from "./runtime/informer.js";
import type { Kube, KubeObject } from "./runtime/kube.js";
import { LeaderElector } from "./runtime/leader.js";
import { makeMetrics } from "./runtime/metrics.js";
import { WorkQueue } from "./runtime/workqueue.js";

export type OperatorOptions = Readonly<{
  kube: Kube;
  log: Logger;
  /** Watch one namespace, or all when undefined. */
  namespace?: string;
  identity: string;
  leaseNamespace: string;
  leaseName?: string;
  healthPort: number;
  healthHost?: string;
  agentServiceAccount?: string;
  /** The Secret (in each cluster's namespace) holding the URL-signing key edge nginx checks. */
  signingSecret?: string;
  workers?: number;
  now?: () => Date;
}>;

export type RunningOperator = Readonly<{ health: Server; done: Promise<void> }>;

export async function startOperator(o: OperatorOptions, signal: AbortSignal): Promise<RunningOperator> {
  const { kube, log } = o;
  const now = o.now ?? (() => new Date());
  const metrics = makeMetrics();
  const inf = <T extends KubeObject>(kind: Kind) => new Informer<T>(kube, kind, log, { namespace: o.namespace });
  const clusters = inf(Kinds.OCACluster);
  const titles = inf(Kinds.Title);
  const popularities = inf(Kinds.Popularity);
  const placements = inf(Kinds.Placement);
  const leases = inf(Kinds.Lease);
  const jobs = inf(Kinds.Job);
  const informers = [clusters, titles, popularities, placements, leases, jobs];
  const stopInformers = new AbortController();
  const running = informers.map((i) => i.run(AbortSignal.any([signal, stopInformers.signal])));
  let synced = false;
  void Promise.all(informers.map((i) => i.synced())).then(() => {
    synced = true;
  });
  const health = await startHealthServer(o.healthPort, o.healthHost ?? "0.0.0.0", {
    ready: () => synced,
    registry: metrics.registry,
  });

  const queues = {
    cluster: new WorkQueue(),
    edge: new WorkQueue(),
    title: new WorkQueue(),
    popularity: new WorkQueue(),
    fill: new WorkQueue(),
  };
  const nsOf = (key: string) => key.slice(0, key.indexOf("/"));
  const allClustersIn = (ns: string) => {
    for (const c of clusters.list()) if (c.metadata.namespace === ns) queues.cluster.add(`${ns}/${c.metadata.name}`);
  };
  clusters.onChange((k) => queues.cluster.add(k));
  // The edge objects and the fill schedule follow the cluster's spec, not its status.
  clusters.onSpecChange((k) => {
    queues.edge.add(k);
    for (const p of placements.list()) {
      if (
        p.metadata.namespace === nsOf(k) &&
        (p.spec as { cluster?: string }).cluster === k.slice(k.indexOf("/") + 1)
      ) {
        queues.fill.add(`${nsOf(k)}/${p.metadata.name}`);
      }
    }
  });
  // A catalog is made of Title and Popularity specs; their controllers' status writes change neither.
  let catalogRevision = 0;
  const catalogChanged = (k: string) => {
    catalogRevision++;
    allClustersIn(nsOf(k)); // the region catalogs of this namespace may have changed
  };
  titles.onChange((k) => queues.title.add(k));
  titles.onSpecChange(catalogChanged);
  popularities.onChange((k) => queues.popularity.add(k));
  popularities.onSpecChange(catalogChanged);
  placements.onChange((k) => {
    queues.fill.add(k);
    const p = placements.get(k);
    const cluster = (p?.spec as { cluster?: string } | undefined)?.cluster;
    if (cluster) queues.cluster.add(`${nsOf(k)}/${cluster}`);
    else allClustersIn(nsOf(k)); // deleted: its cluster may need a new one
  });
  leases.onChange((k) => {
    const c = leases.get(k)?.metadata.labels?.[clusterLabel];
    if (c) queues.cluster.add(`${nsOf(k)}/${c}`);
  });
  jobs.onChange((k) => {
    const p = jobs.get(k)?.metadata.labels?.[placementLabel];
    if (p) queues.fill.add(`${nsOf(k)}/${p}`);
  });

  const agentServiceAccount = o.agentServiceAccount ?? "edgefleet-agent";
  const signingSecret = o.signingSecret ?? "edgefleet-url-signing";
  const controllers: [string, WorkQueue, Reconciler][] = [
    [
      "ocacluster",
      queues.cluster,
      makeOCAClusterReconciler({
        kube,
        clusters,
        titles,
        popularities,
        placements,
        leases,
        plan: planHca,
        catalogRevision: () => catalogRevision,
        now,
      }),
    ],
    [
      "edge",
      queues.edge,
      makeEdgeReconciler({
        kube,
        clusters,
        options: { agentServiceAccount, signingSecret },
        now,
      }),
    ],
    ["title", queues.title, makeTitleReconciler({ kube, titles, now })],
    ["popularity", queues.popularity, makePopularityReconciler({ kube, popularities, now })],
    [
      "fill",
      queues.fill,
      makeFillReconciler({
        kube,
        placements,
        clusters,
        jobs,
        agentServiceAccount,
        signingSecret,
        now,
      }),
    ],
  ];

  const elector = new LeaderElector(
    kube,
    { namespace: o.leaseNamespace, name: o.leaseName ?? "edgefleet-operator", identity: o.identity },
    log,
  );
  const done = elector
    .run(signal, async (leading) => {
      metrics.leader.set({ name: "edgefleet-operator" }, 1);
      await Promise.all(informers.map((i) => i.synced()));
      log.info("caches synced; starting controllers");
      await Promise.all(
        controllers.map(([name, queue, reconciler]) =>
          runController({ name, queue, reconciler, log, metrics, workers: o.workers ?? 2 }, leading),
        ),
      );
      metrics.leader.set({ name: "edgefleet-operator" }, 0);
    })
    .finally(async () => {
      stopInformers.abort();
      await Promise.all(running);
      await new Promise((r) => health.close(r));
      log.info("operator stopped");
    });
  return { health, done };
}
