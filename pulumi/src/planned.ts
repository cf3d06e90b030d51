/**
 * The Placement each site will be served from, decided at preview time by the operator's own pure
 * planner (controllers/cluster-plan.ts `decide` with HCA) over the stack's catalog and popularity: the
 * same objects give the same ring, and the ring's name is a hash of it, so the operator creates a
 * Placement of exactly this name once it sees the site.
 *
 * It is the first Placement of a site, or the next one after its servers or the catalog change, as long
 * as the site has no Active Placement yet: once one is active HCA also weighs churn against it, which
 * only the cluster knows. Without titles (no catalog in the stack) there is nothing to place: undefined.
 */
import { apiVersion, type OCACluster, type Popularity, type Title } from "../../operator/src/api/index.js";
import { regionCatalog } from "../../operator/src/catalog/catalog.js";
import { decide } from "../../operator/src/controllers/cluster-plan.js";
import { planHca } from "../../operator/src/placement/index.js";
import type { RegionSpec } from "./config.js";

/** Site name → the name of the Placement the operator will create for it (undefined: nothing to place). */
export function plannedPlacements(spec: RegionSpec): Record<string, string | undefined> {
  const popularity: Popularity = {
    apiVersion,
    kind: "Popularity",
    metadata: { name: spec.region, namespace: spec.fleetNamespace },
    spec: spec.popularity,
  };
  const catalog = regionCatalog(spec.region, spec.titles as Title[], popularity);
  const out: Record<string, string | undefined> = {};
  for (const site of spec.sites) {
    const cluster: OCACluster = {
      apiVersion,
      kind: "OCACluster",
      metadata: { name: site.name, namespace: spec.fleetNamespace },
      spec: site.spec,
    };
    // The clock only moves the fill schedule and heartbeat health, never the ring.
    const d = decide({ cluster, catalog, placements: [], heartbeats: new Map(), now: new Date(0) }, planHca);
    out[site.name] = d.create?.name;
  }
  return out;
}
