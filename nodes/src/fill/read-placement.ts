/** Reads what fillSpecFor needs from the API server: the Placement, its OCACluster, the Titles, the region's Popularity. */
import { mustParse, type Popularity } from "../../../operator/src/api/index.js";
import {
  OCAClusterKind,
  PlacementKind,
  PopularityKind,
  TitleKind,
} from "../../../operator/src/controllers/resources.js";
import type { Kube, KubeObject } from "../../../operator/src/runtime/kube.js";
import type { PlacementInputs } from "./from-placement.js";

export type PlacementRef = Readonly<{ namespace: string; name: string }>;

export class PlacementRefError extends Error {
  override name = "PlacementRefError";
}

const dnsName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** "<namespace>/<name>", as --placement takes it. */
export function parsePlacementRef(s: string): PlacementRef {
  const [namespace, name, ...rest] = s.split("/");
  if (rest.length > 0 || !namespace || !name || !dnsName.test(namespace) || !dnsName.test(name)) {
    throw new PlacementRefError(`--placement: ${JSON.stringify(s)} must be <namespace>/<name> of lowercase DNS names`);
  }
  return { namespace, name };
}

/** Titles and Popularity come from the Placement's namespace; every object is validated with zod. */
export async function readPlacementInputs(
  kube: Pick<Kube, "get" | "list">,
  ref: PlacementRef,
): Promise<PlacementInputs> {
  const raw = await kube.get<KubeObject>(PlacementKind, ref);
  if (!raw) throw new PlacementRefError(`--placement: Placement ${ref.namespace}/${ref.name} not found`);
  const placement = mustParse("Placement", raw);
  const clusterKey = { namespace: ref.namespace, name: placement.spec.cluster };
  const rawCluster = await kube.get<KubeObject>(OCAClusterKind, clusterKey);
  if (!rawCluster) {
    throw new PlacementRefError(
      `Placement ${ref.namespace}/${ref.name} spec.cluster: OCACluster ${ref.namespace}/${placement.spec.cluster} not found`,
    );
  }
  const cluster = mustParse("OCACluster", rawCluster);
  const [titles, pops] = await Promise.all([
    kube.list(TitleKind, { namespace: ref.namespace }),
    kube.list(PopularityKind, { namespace: ref.namespace }),
  ]);
  const region = cluster.spec.region;
  const popularities: Popularity[] = pops.items
    .map((p) => mustParse("Popularity", p))
    .filter((p) => p.spec.region === region);
  if (popularities.length > 1) {
    throw new PlacementRefError(
      `namespace ${ref.namespace}: Popularities ${popularities.map((p) => p.metadata.name).join(", ")} all have spec.region ${region}; a region has one`,
    );
  }
  return {
    placement,
    cluster,
    titles: titles.items.map((t) => mustParse("Title", t)),
    popularity: popularities[0],
  };
}
