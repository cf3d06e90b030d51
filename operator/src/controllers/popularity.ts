/** Popularity controller: validates each region's daily demand and counts its titles for `kubectl get pop`. */
import { formatFieldErrors, Kinds, type Popularity, type PopularityStatus, parseObject } from "../api/index.js";
import type { KubeObject } from "../runtime/kube.js";
import { setCondition } from "./conditions.js";
import { statusController, statusOf } from "./status.js";

/** Pure: the status a Popularity object should have (`valid`: as its cache validated it). */
export function popularityStatus(obj: KubeObject, now: Date, valid?: Popularity): PopularityStatus {
  const old = statusOf(obj);
  const generation = obj.metadata.generation;
  const r = valid ? { ok: true as const, value: valid } : parseObject("Popularity", { ...obj, status: undefined });
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

export const popularityController = statusController("popularity", Kinds.Popularity, popularityStatus);
