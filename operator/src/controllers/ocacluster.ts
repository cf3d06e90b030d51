/**
 * OCACluster controller: plans the cluster's ring with HCA when its catalog snapshot or servers change
 * (creating a Placement owned by the cluster) and reports capacity, per-server expectations and
 * health, and the Ready/Placed/Filled/Degraded conditions. Deciding is cluster-plan.ts; this file
 * gathers, applies and reports.
 */
import { isDeepStrictEqual } from "node:util";
import {
  apiVersion,
  Cached,
  clusterLabel,
  formatFieldErrors,
  Kinds,
  type Lease,
  type OCACluster,
  type Placement,
} from "../api/index.js";
import { RegionCatalogs } from "../catalog/catalog.js";
import type { Caches } from "../runtime/caches.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import { type EventRecorder, referenceTo } from "../runtime/events.js";
import { ApiError, type Kube, type KubeObject } from "../runtime/kube.js";
import { type ControllerSpec, type MapFn, self, watch } from "../runtime/manager.js";
import type { Cache, Entry } from "../runtime/store.js";
import { type ClusterDecision, decide, type ServerHeartbeat } from "./cluster-plan.js";
import { setCondition } from "./conditions.js";
import { type ControllerDeps, keysIn, namespaceOf } from "./deps.js";
import { placementPlanned, serverHealthEvents } from "./events.js";
import { controllerRef, fieldManager } from "./resources.js";
import { type ApplyStatus, statusOf, statusWriter } from "./status.js";

export type ClusterDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create" | "get">;
  clusters: Pick<Cache<OCACluster>, "get">;
  placements: Pick<Cache<Placement>, "list" | "entries">;
  leases: Pick<Cache<Lease>, "entries">;
  /** The region catalogs, rebuilt only when a Title or Popularity spec changed. */
  catalogs: Pick<RegionCatalogs, "get">;
  plan: ControllerDeps["plan"];
  now: () => Date;
  events: EventRecorder;
}>;

export function makeOCAClusterReconciler(d: ClusterDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fieldManager);
  return reconcilerOf(d.clusters, async (entry, req, { log }) => {
    const now = d.now();
    const cluster = entry.value;
    if (!cluster) {
      await reportInvalid(applyStatus, entry, now);
      return {};
    }
    const placements = d.placements.list(req.namespace).filter((p) => p.spec.cluster === req.name);
    const servers = new Set(cluster.spec.servers.map((s) => s.name));
    const heartbeats = new Map<string, ServerHeartbeat>();
    for (const { value, observedAt } of d.leases.entries(req.namespace)) {
      const hb = value?.heartbeat;
      if (hb && hb.cluster === req.name && servers.has(hb.server)) heartbeats.set(hb.server, { ...hb, observedAt });
    }
    const catalog = d.catalogs.get(req.namespace, cluster.spec.region);
    const placementNames = new Set(d.placements.entries(req.namespace).map((e) => e.object.metadata.name));
    const decision = decide({ cluster, catalog, placements, placementNames, heartbeats, now }, d.plan);
    const me = referenceTo(entry.object);
    try {
      const created = decision.create && (await createPlacement(d.kube, applyStatus, entry, decision.create, log));
      if (created && decision.create) {
        const { window } = cluster.spec.fill;
        await d.events.record(placementPlanned(me, referenceTo(created), decision.create, window, now));
      }
    } catch (err) {
      if (!(err instanceof PlacementNameTakenError)) throw err;
      // Placed=False names the object in the way; the retry (with back-off) plans around it once cached.
      const placed = { type: "Placed", status: "False" as const, reason: "PlacementNameTaken", message: err.message };
      const observedGeneration = cluster.metadata.generation;
      const conditions = setCondition(decision.status.conditions ?? [], { ...placed, observedGeneration }, now);
      await applyStatus(Kinds.OCACluster, cluster, { ...decision.status, conditions });
      throw err;
    }
    if (await applyStatus(Kinds.OCACluster, cluster, decision.status)) {
      for (const e of serverHealthEvents(me, cluster.status?.servers, decision.status.servers ?? [])) {
        await d.events.record(e);
      }
    }
    return { requeueAfterMs: decision.recheckAfterMs };
  });
}

/** The name of a new Placement is another object's: not this cluster's ring, created by an earlier attempt. */
export class PlacementNameTakenError extends Error {
  override name = "PlacementNameTakenError";
}

/** An invalid spec is Ready=False naming every bad field; the rest of the status stays as it was. */
async function reportInvalid(applyStatus: ApplyStatus, entry: Entry<OCACluster>, now: Date): Promise<void> {
  const obj = entry.object;
  const old = statusOf(obj);
  const gen = obj.metadata.generation;
  const message = formatFieldErrors(entry.errors);
  const conditions = setCondition(
    old.conditions,
    { type: "Ready", status: "False", reason: "InvalidSpec", message, observedGeneration: gen },
    now,
  );
  await applyStatus(Kinds.OCACluster, obj, { ...old.fields, observedGeneration: gen, conditions });
}

/**
 * Creates the Placement (owned by the cluster) and writes its expectations; resolves to the object it
 * created, or undefined when an earlier attempt had created it. A 409 is success when the
 * object there is this one (the same ring, owned by this cluster: an earlier attempt made it) and
 * PlacementNameTakenError otherwise, never swallowed: a swallowed 409 left the cluster planning the
 * same name forever.
 */
async function createPlacement(
  kube: Pick<Kube, "create" | "get">,
  applyStatus: ApplyStatus,
  cluster: Entry<OCACluster>,
  create: NonNullable<ClusterDecision["create"]>,
  log: { info(o: object, msg: string): void },
): Promise<KubeObject | undefined> {
  const { name, spec, status } = create;
  const namespace = cluster.object.metadata.namespace;
  const placement = {
    apiVersion,
    kind: "Placement",
    metadata: { name, namespace, ownerReferences: [controllerRef(cluster.object)] },
    spec,
  };
  let created: KubeObject | undefined;
  try {
    created = await kube.create(Kinds.Placement, placement, fieldManager);
    log.info({ placement: name, cutoff: spec.cutoff, catalog: spec.catalogGeneration }, "created placement");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
    const there = await kube.get(Kinds.Placement, { namespace: namespace ?? "", name });
    const owner = there?.metadata.ownerReferences?.find((o) => o.controller)?.uid;
    if (!there || owner !== cluster.object.metadata.uid || !isDeepStrictEqual(there.spec, spec)) {
      throw new PlacementNameTakenError(
        `Placement ${name} already exists and is not this cluster's ring for catalog ${spec.catalogGeneration} (owner ${owner ?? "none"})`,
        { cause: err },
      );
    }
    log.info({ placement: name }, "placement already created by an earlier attempt");
  }
  await applyStatus(Kinds.Placement, placement, status);
  return created;
}

/** Every cluster of the namespace: the region catalogs there may have changed. */
const clustersOfNamespace = (key: string, _e: unknown, caches: Caches) =>
  keysIn(caches.of(Kinds.OCACluster), namespaceOf(key));

/** The cluster a Placement is of; when it cannot be read, every cluster of its namespace. */
const clusterOfPlacement: MapFn<Placement> = (key, p, caches) =>
  p.value ? [`${namespaceOf(key)}/${p.value.spec.cluster}`] : clustersOfNamespace(key, p, caches);

/** The cluster a server's heartbeat Lease is labelled with. */
const clusterOfLease: MapFn<Lease> = (key, l) => {
  const cluster = l.object.metadata.labels?.[clusterLabel];
  return cluster ? [`${namespaceOf(key)}/${cluster}`] : [];
};

type Deps = Pick<ControllerDeps, "kube" | "caches" | "now" | "plan" | "events">;

export const ocaclusterController = {
  name: "ocacluster",
  // Planning computes on the event loop, but creates and status writes wait on the API server.
  workers: 4,
  for: watch(Kinds.OCACluster, self),
  watches: [
    // A catalog is made of Title and Popularity specs; their controllers' status writes change neither.
    watch(Kinds.Title, clustersOfNamespace, { on: "spec" }),
    watch(Kinds.Popularity, clustersOfNamespace, { on: "spec" }),
    // Owns: a Placement's phase and expectations show in the cluster's status.
    watch(Kinds.Placement, clusterOfPlacement),
    // Heartbeats: a server's health shows in the cluster's status. Only Leases labelled with a cluster
    // are cached: leader election's and other components' are none of ours.
    watch(Cached.HeartbeatLease, clusterOfLease),
  ],
  make: (d: Deps) => {
    const titles = d.caches.of(Kinds.Title);
    const popularities = d.caches.of(Kinds.Popularity);
    const catalogs = new RegionCatalogs({
      titles: (ns) => titles.list(ns),
      popularities: (ns) => popularities.list(ns),
      revision: () => `${titles.specRevision()}/${popularities.specRevision()}`,
    });
    return makeOCAClusterReconciler({
      kube: d.kube,
      clusters: d.caches.of(Kinds.OCACluster),
      placements: d.caches.of(Kinds.Placement),
      leases: d.caches.of(Cached.HeartbeatLease),
      catalogs,
      plan: d.plan,
      now: d.now,
      events: d.events,
    });
  },
} satisfies ControllerSpec<Deps>;
