/** The resource types the controllers read and write, as the runtime client addresses them. */
import { group, type KindName, kinds, version } from "../api/index.js";
import type { Kind } from "../runtime/kube.js";

const ours = (k: KindName): Kind => ({ group, version, kind: k, plural: kinds[k].plural, namespaced: true });

export const OCAClusterKind = ours("OCACluster");
export const TitleKind = ours("Title");
export const PlacementKind = ours("Placement");
export const PopularityKind = ours("Popularity");
export { LeaseKind } from "../runtime/leader.js";

/** The field manager of everything the operator writes (server-side apply). */
export const fieldManager = "edgefleet-operator";
