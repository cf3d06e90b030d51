/** Writing status: through the status subresource, only when it changed, owning only what we set. */
import { isDeepStrictEqual } from "node:util";
import type { Kind, Kube, KubeObject } from "../runtime/kube.js";
import { fieldManager } from "./resources.js";

export type StatusWriter = Pick<Kube, "apply">;

/** Server-side applies `status` unless the object already has exactly it; returns whether it wrote. */
export async function applyStatus(kube: StatusWriter, kind: Kind, obj: KubeObject, status: object): Promise<boolean> {
  if (isDeepStrictEqual(obj.status, status)) return false;
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
