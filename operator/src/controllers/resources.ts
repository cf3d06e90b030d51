/** The resource types the controllers read and write, as the runtime client addresses them. */
import { group, type KindName, kinds, version } from "../api/index.js";
import type { Kind, KubeObject } from "../runtime/kube.js";

type OwnerReference = NonNullable<KubeObject["metadata"]["ownerReferences"]>[number];

const ours = (k: KindName): Kind => ({ group, version, kind: k, plural: kinds[k].plural, namespaced: true });

export const OCAClusterKind = ours("OCACluster");
export const TitleKind = ours("Title");
export const PlacementKind = ours("Placement");
export const PopularityKind = ours("Popularity");
export { LeaseKind } from "../runtime/leader.js";

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
