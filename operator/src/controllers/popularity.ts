/** Popularity controller: validates each region's daily demand and counts its titles for `kubectl get pop`. */
import { formatFieldErrors, Kinds, type PopularityStatus, parseObject } from "../api/index.js";
import type { Reconciler } from "../runtime/controller.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { setCondition } from "./conditions.js";
import { fieldManager } from "./resources.js";
import { statusOf, statusWriter } from "./status.js";

export type PopularityDeps = Readonly<{
  popularities: { get(key: string): KubeObject | undefined };
  kube: Pick<Kube, "apply">;
  now: () => Date;
}>;

/** Pure: the status a Popularity object should have. */
export function popularityStatus(obj: KubeObject, now: Date): PopularityStatus {
  const old = statusOf(obj);
  const generation = obj.metadata.generation;
  const r = parseObject("Popularity", { ...obj, status: undefined });
  const ready = r.ok
    ? { status: "True" as const, reason: "Valid", message: "" }
    : {
        status: "False" as const,
        reason: "InvalidSpec",
        message: formatFieldErrors(r.errors),
      };
  return {
    observedGeneration: generation,
    conditions: setCondition(old.conditions, { type: "Ready", ...ready, observedGeneration: generation }, now),
    ...(r.ok ? { titleCount: Object.keys(r.value.spec.demand).length } : {}),
  };
}

export function makePopularityReconciler(d: PopularityDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fieldManager);
  return {
    async reconcile(req) {
      const obj = d.popularities.get(`${req.namespace}/${req.name}`);
      if (!obj || obj.metadata.deletionTimestamp) return {};
      await applyStatus(Kinds.Popularity, obj, popularityStatus(obj, d.now()));
      return {};
    },
  };
}
