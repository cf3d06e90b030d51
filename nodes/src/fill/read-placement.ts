/**
 * Reads what fillSpecFor and keptFiles need from the API server: the Placement, its OCACluster, the
 * cluster's Active placement, the Titles, the region's Popularity, the namespace's Placements.
 */

import type { Logger } from "pino";
import {
  formatFieldErrors,
  Kinds,
  mustParse,
  type OCACluster,
  type Placement,
  parseObject,
} from "../../../operator/src/api/index.js";
import { regionPopularity } from "../../../operator/src/catalog/catalog.js";
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

/**
 * Titles and Popularity come from the Placement's namespace, chosen as the OCACluster controller
 * chooses them (controllers/ocacluster.ts), or the catalogs would differ: Titles and Popularities
 * that fail validation are left out (and named in `invalid`); the region's snapshot is picked by
 * regionPopularity, the same function the operator uses. The Active placement is read as
 * readActivePlacement reads it.
 */
export async function readPlacementInputs(
  kube: Pick<Kube, "get" | "list">,
  ref: PlacementRef,
  log: Pick<Logger, "info" | "warn">,
): Promise<{ inputs: PlacementInputs; invalid: string[] }> {
  const raw = await kube.get<KubeObject>(Kinds.Placement, ref);
  if (!raw) throw new PlacementRefError(`--placement: Placement ${ref.namespace}/${ref.name} not found`);
  const placement = mustParse("Placement", raw);
  const clusterKey = { namespace: ref.namespace, name: placement.spec.cluster };
  const rawCluster = await kube.get<KubeObject>(Kinds.OCACluster, clusterKey);
  if (!rawCluster) {
    throw new PlacementRefError(
      `Placement ${ref.namespace}/${ref.name} spec.cluster: OCACluster ${ref.namespace}/${placement.spec.cluster} not found`,
    );
  }
  const cluster = mustParse("OCACluster", rawCluster);
  const [rawTitles, rawPops, rawPlacements, active] = await Promise.all([
    kube.list(Kinds.Title, { namespace: ref.namespace }),
    kube.list(Kinds.Popularity, { namespace: ref.namespace }),
    kube.list(Kinds.Placement, { namespace: ref.namespace }),
    readActivePlacement(kube, cluster, placement, log),
  ]);
  const invalid: string[] = [];
  const valid = <K extends "Title" | "Popularity" | "Placement">(kind: K, items: readonly KubeObject[]) =>
    items.flatMap((o) => {
      const r = parseObject(kind, o);
      if (!r.ok) invalid.push(`${kind} ${o.metadata.name}: ${formatFieldErrors(r.errors)}`);
      return r.ok ? [r.value] : [];
    });
  const popularity = regionPopularity(valid("Popularity", rawPops.items), cluster.spec.region);
  // Steering leaves an invalid Placement out too: it sends no client by it.
  const placements = valid("Placement", rawPlacements.items);
  const titles = valid("Title", rawTitles.items);
  return { inputs: { placement, cluster, active, titles, popularity, placements }, invalid };
}

/**
 * The Placement steering serves `cluster` from now, as its status.activePlacement names it: the fill
 * asks that Placement's holders of a file first. Only a guess at where files are, so its absence is
 * no error: none yet (the site's first fill), gone (404), or invalid each give undefined and a log line.
 */
export async function readActivePlacement(
  kube: Pick<Kube, "get">,
  cluster: OCACluster,
  filling: Placement,
  log: Pick<Logger, "info" | "warn">,
): Promise<Placement | undefined> {
  const name = cluster.status?.activePlacement;
  const namespace = cluster.metadata.namespace ?? "";
  if (name === undefined) {
    log.info({ cluster: cluster.metadata.name }, "no Active placement: peers are the new placement's holders only");
    return undefined;
  }
  if (name === filling.metadata.name) return filling;
  const raw = await kube.get<KubeObject>(Kinds.Placement, { namespace, name });
  if (!raw) {
    log.warn(
      { cluster: cluster.metadata.name, activePlacement: name },
      "the Active placement the OCACluster names is not found: peers are the new placement's holders only",
    );
    return undefined;
  }
  const r = parseObject("Placement", raw);
  if (!r.ok) {
    log.warn(
      { activePlacement: name, why: formatFieldErrors(r.errors) },
      "the Active placement is invalid: peers are the new placement's holders only",
    );
    return undefined;
  }
  return r.value;
}
