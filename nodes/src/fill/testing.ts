/**
 * Fixtures for the fill's tests: the sample Titles and eu-west Popularity, and Placements as the
 * operator would write them (HCA over the region's catalog built from the same objects).
 */
import { mustParse, type OCACluster, type Placement, type Popularity } from "../../../operator/src/api/index.js";
import { loadSamples, sample } from "../../../operator/src/api/testdata/samples.js";
import { regionCatalog } from "../../../operator/src/catalog/catalog.js";
import { serversOf } from "../../../operator/src/catalog/servers.js";
import { planHca } from "../../../operator/src/placement/index.js";

const all = loadSamples().map((s) => s.object);
export const titles = all.filter((o) => o.kind === "Title").map((o) => mustParse("Title", o));
export const popularity = mustParse("Popularity", sample("Popularity", "eu-west"));

/** A Placement of `c` in namespace "edge", planned over the catalog `pop` gives. */
export function placementFor(c: OCACluster, pop: Popularity = popularity, name = `${c.metadata.name}-p`): Placement {
  const catalog = regionCatalog(c.spec.region, titles, pop);
  const { plan } = planHca({
    cluster: c.metadata.name,
    catalogGeneration: catalog.generation,
    servers: serversOf(c.spec),
    catalog: catalog.files,
  });
  return mustParse("Placement", {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name, namespace: "edge" },
    spec: {
      cluster: plan.cluster,
      catalogGeneration: plan.catalogGeneration,
      cutoff: plan.cutoff,
      servers: plan.servers,
    },
  });
}
