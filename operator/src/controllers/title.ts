/**
 * Title controller: validates each Title and publishes its convex-hull ladder, total bytes and file
 * count in status, so the playback API and `kubectl get titles` read them without recomputing.
 */
import { formatFieldErrors, Kinds, parseObject, type TitleStatus } from "../api/index.js";
import { buildLadder, totalBytes } from "../ladder/index.js";
import type { Reconciler } from "../runtime/controller.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { setCondition } from "./conditions.js";
import { fieldManager } from "./resources.js";
import { statusOf, statusWriter } from "./status.js";

export type TitleDeps = Readonly<{
  titles: { get(key: string): KubeObject | undefined };
  kube: Pick<Kube, "apply">;
  now: () => Date;
}>;

/** Pure: the status a Title should have. An invalid spec gets Ready=False naming every bad field. */
export function titleStatus(obj: KubeObject, now: Date): TitleStatus {
  const old = statusOf(obj);
  const generation = obj.metadata.generation;
  const r = parseObject("Title", { ...obj, status: undefined });
  if (!r.ok) {
    const message = formatFieldErrors(r.errors);
    return {
      observedGeneration: generation,
      conditions: setCondition(
        old.conditions,
        { type: "Ready", status: "False", reason: "InvalidSpec", message, observedGeneration: generation },
        now,
      ),
    };
  }
  const spec = r.value.spec;
  return {
    observedGeneration: generation,
    conditions: setCondition(
      old.conditions,
      { type: "Ready", status: "True", reason: "LadderBuilt", message: "", observedGeneration: generation },
      now,
    ),
    ladder: buildLadder(spec.files),
    totalBytes: totalBytes(spec.files),
    fileCount: spec.files.length,
  };
}

export function makeTitleReconciler(d: TitleDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fieldManager);
  return {
    async reconcile(req) {
      const obj = d.titles.get(`${req.namespace}/${req.name}`);
      if (!obj || obj.metadata.deletionTimestamp) return {};
      await applyStatus(Kinds.Title, obj, titleStatus(obj, d.now()));
      return {};
    },
  };
}
