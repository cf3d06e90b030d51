/** What the controllers stamp on what they write: owner references and field managers. */
import type { KubeObject } from "../runtime/kube.js";

type OwnerReference = NonNullable<KubeObject["metadata"]["ownerReferences"]>[number];

/** The owner reference that makes `owner` the controller of what it points from (garbage-collected with it). */
export function controllerRef(owner: KubeObject): OwnerReference {
  const { name, uid } = owner.metadata;
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name,
    uid: uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The field manager of everything the operator writes (server-side apply). */
export const fieldManager = "edgefleet-operator";
