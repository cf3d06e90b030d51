/**
 * Title controller: validates each Title and publishes its convex-hull ladder, total bytes and file
 * count in status, so the playback API and `kubectl get titles` read them without recomputing.
 */
import { formatFieldErrors, Kinds, parseObject, type Title, type TitleStatus } from "../api/index.js";
import { buildLadder, totalBytes } from "../ladder/index.js";
import type { KubeObject } from "../runtime/kube.js";
import { setCondition } from "./conditions.js";
import { statusController, statusOf } from "./status.js";

/**
 * Pure: the status a Title should have. An invalid spec gets Ready=False naming every bad field.
 * `valid` is the object as its cache validated it; without it, the spec is validated here.
 */
export function titleStatus(obj: KubeObject, now: Date, valid?: Title): TitleStatus {
  const old = statusOf(obj);
  const generation = obj.metadata.generation;
  const r = valid ? { ok: true as const, value: valid } : parseObject("Title", { ...obj, status: undefined });
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

export const titleController = statusController("title", Kinds.Title, titleStatus);
