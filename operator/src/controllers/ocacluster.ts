/**
 * OCACluster controller: plans the cluster's ring with HCA when its catalog snapshot or servers change
 * (creating a Placement owned by the cluster) and reports capacity, per-server expectations and
 * health, and the Ready/Placed/Filled/Degraded conditions. Deciding is cluster-plan.ts; this file
 * gathers, applies and reports.
 */
import { apiVersion, formatFieldErrors, heartbeatOf, Kinds, parseObject } from "../api/index.js";
import { type RegionCatalog, regionCatalog, regionPopularity } from "../catalog/catalog.js";
import type { PlanInput, PlanResult } from "../placement/index.js";
import type { Reconciler } from "../runtime/controller.js";
import { ApiError, type Kube, type KubeObject } from "../runtime/kube.js";
import { decide, type ServerHeartbeat } from "./cluster-plan.js";
import { setCondition } from "./conditions.js";
import { ParsedCache } from "./parsed.js";
import { controllerRef, fieldManager } from "./resources.js";
import { statusOf, statusWriter } from "./status.js";

type Cache = { get(key: string): KubeObject | undefined; list(): KubeObject[] };

export type ClusterDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create">;
  clusters: Cache;
  titles: Cache;
  popularities: Cache;
  placements: Cache;
  leases: Cache;
  plan: (i: PlanInput) => PlanResult;
  /** Moves whenever a Title or Popularity changes (the manager counts informer events). */
  catalogRevision: () => number;
  now: () => Date;
}>;

export function makeOCAClusterReconciler(d: ClusterDeps): Reconciler {
  const views = {
    titles: new ParsedCache("Title"),
    pops: new ParsedCache("Popularity"),
    placements: new ParsedCache("Placement"),
  };
  // The catalog only changes when a Title or a Popularity does: remember the last one per region and
  // rebuild it only when the revision moved, not on every reconcile (heartbeats trigger many).
  const catalogs = new Map<string, { key: number; catalog: RegionCatalog }>();
  const catalogFor = (namespace: string, region: string): RegionCatalog => {
    const key = d.catalogRevision();
    const memo = catalogs.get(`${namespace}/${region}`);
    if (memo?.key === key) return memo.catalog;
    const titles = views.titles.all(d.titles.list(), namespace);
    const pop = regionPopularity(views.pops.all(d.popularities.list(), namespace), region);
    const catalog = regionCatalog(region, titles, pop);
    catalogs.set(`${namespace}/${region}`, { key, catalog });
    return catalog;
  };

  const applyStatus = statusWriter(d.kube, fieldManager);
  return {
    async reconcile(req, { log }) {
      const obj = d.clusters.get(`${req.namespace}/${req.name}`);
      if (!obj || obj.metadata.deletionTimestamp) return {};
      const now = d.now();
      const parsed = parseObject("OCACluster", obj);
      if (!parsed.ok) {
        const message = formatFieldErrors(parsed.errors);
        const old = statusOf(obj);
        const gen = obj.metadata.generation;
        const conditions = setCondition(
          old.conditions,
          { type: "Ready", status: "False", reason: "InvalidSpec", message, observedGeneration: gen },
          now,
        );
        await applyStatus(Kinds.OCACluster, obj, { ...old.fields, observedGeneration: gen, conditions });
        return {};
      }
      const cluster = parsed.value;
      const placements = views.placements
        .all(d.placements.list(), req.namespace)
        .filter((p) => p.spec.cluster === req.name);
      const servers = new Set(cluster.spec.servers.map((s) => s.name));
      const heartbeats = new Map<string, ServerHeartbeat>();
      for (const l of d.leases.list()) {
        if (l.metadata.namespace !== req.namespace) continue;
        const hb = heartbeatOf(l);
        if (hb && hb.cluster === req.name && servers.has(hb.server)) heartbeats.set(hb.server, hb);
      }
      const decision = decide(
        { cluster, catalog: catalogFor(req.namespace, cluster.spec.region), placements, heartbeats, now },
        d.plan,
      );
      if (decision.create) {
        const { name, spec, status } = decision.create;
        const owner = controllerRef(obj);
        const placement = {
          apiVersion,
          kind: "Placement",
          metadata: { name, namespace: req.namespace, ownerReferences: [owner] },
          spec,
        };
        try {
          await d.kube.create(Kinds.Placement, placement, fieldManager);
          log.info({ placement: name, cutoff: spec.cutoff, catalog: spec.catalogGeneration }, "created placement");
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 409)) throw err; // already made by an earlier attempt
        }
        await applyStatus(Kinds.Placement, placement, status);
      }
      await applyStatus(Kinds.OCACluster, obj, decision.status);
      return { requeueAfterMs: decision.recheckAfterMs };
    },
  };
}
