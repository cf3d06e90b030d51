/**
 * Edge controller: keeps each OCACluster's edge ConfigMap and DaemonSet (edge-plan.ts) applied, and
 * reports whether its edge settings render (condition EdgeConfigured, under its own field manager so
 * it never disturbs the conditions the OCACluster controller owns).
 */

import { Kinds, parseObject } from "../api/index.js";
import { EdgeSettingsError } from "../edge/nginx-config.js";
import type { Reconciler } from "../runtime/controller.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { setCondition } from "./conditions.js";
import { type EdgeOptions, edgeObjects } from "./edge-plan.js";
import { controllerRef } from "./resources.js";
import { statusWriter } from "./status.js";

export const edgeFieldManager = "edgefleet-edge";

export type EdgeDeps = Readonly<{
  kube: Pick<Kube, "apply">;
  clusters: { get(key: string): KubeObject | undefined };
  options: EdgeOptions;
  now: () => Date;
}>;

export function makeEdgeReconciler(d: EdgeDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, edgeFieldManager);
  return {
    async reconcile(req, { log }) {
      const obj = d.clusters.get(`${req.namespace}/${req.name}`);
      if (!obj || obj.metadata.deletionTimestamp) return {};
      const parsed = parseObject("OCACluster", obj);
      if (!parsed.ok) return {}; // the OCACluster controller reports the invalid spec
      const cluster = parsed.value;
      const gen = obj.metadata.generation;
      const owner = [controllerRef(obj)];
      let condition: Parameters<typeof setCondition>[1];
      try {
        const { configMap, daemonSet } = edgeObjects(cluster, d.options, owner);
        await d.kube.apply(Kinds.ConfigMap, configMap, edgeFieldManager);
        await d.kube.apply(Kinds.DaemonSet, daemonSet, edgeFieldManager);
        condition = {
          type: "EdgeConfigured",
          status: "True",
          reason: "Applied",
          message: `DaemonSet ${daemonSet.metadata.name}`,
          observedGeneration: gen,
        };
      } catch (err) {
        if (!(err instanceof EdgeSettingsError)) throw err;
        log.warn({ err }, "edge settings do not render");
        condition = {
          type: "EdgeConfigured",
          status: "False",
          reason: "InvalidEdgeSettings",
          message: err.message,
          observedGeneration: gen,
        };
      }
      const current = cluster.status?.conditions?.filter((c) => c.type === "EdgeConfigured") ?? [];
      await applyStatus(Kinds.OCACluster, cluster, { conditions: setCondition(current, condition, d.now()) });
      // Re-apply now and then: informers wake this controller on spec changes only, and someone may
      // have deleted or edited the DaemonSet in between.
      return { requeueAfterMs: 10 * 60_000 };
    },
  };
}
