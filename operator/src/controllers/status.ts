/** Writing status: through the status subresource, only when it changed, owning only what we set. */

import { isDeepStrictEqual } from "node:util";
import type { Kind } from "../api/index.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { fieldManager } from "./resources.js";

export type StatusWriter = Pick<Kube, "apply">;

type Conditional = { conditions?: readonly { type: string }[] };

/**
 * True when `current` already holds every field of `next`. Other controllers own other fields and
 * condition types of the same status (server-side apply merges them), so only ours are compared.
 */
export function holds(current: unknown, next: object): boolean {
  const cur = (current ?? {}) as Record<string, unknown> & Conditional;
  return Object.entries(next).every(([k, v]) => {
    if (k !== "conditions") return isDeepStrictEqual(cur[k], v);
    const mine = new Set((v as Conditional["conditions"])?.map((c) => c.type));
    return isDeepStrictEqual(cur.conditions?.filter((c) => mine.has(c.type)) ?? [], v);
  });
}

/** Server-side applies `status` unless the object already holds it; returns whether it wrote. */
export async function applyStatus(kube: StatusWriter, kind: Kind, obj: KubeObject, status: object): Promise<boolean> {
  if (holds(obj.status, status)) return false;
  const { name, namespace } = obj.metadata;
  await kube.apply(
    kind,
    { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace }, status },
    fieldManager,
    {
      subresource: "status",
    },
  );
  return true;
}
