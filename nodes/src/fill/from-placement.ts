/**
 * What one server fills for a Placement, computed the way the operator computes it: the region's
 * catalog from the Titles and the Popularity snapshot (catalog/), the ring from the Placement, and
 * assign() from placement/; the peers to ask for each file from the cluster's Active placement and the
 * new one (peer-order.ts). Pure: the objects come in, a validated FillSpec comes out.
 */
import type { OCACluster, Placement, Popularity, Title, TitleFile } from "../../../operator/src/api/index.js";
import { parseBitsPerSecond, phaseOf } from "../../../operator/src/api/index.js";
import { fileKey, type RegionCatalog, regionCatalog } from "../../../operator/src/catalog/catalog.js";
import { serversOf } from "../../../operator/src/catalog/servers.js";
import { regionTitles } from "../../../operator/src/catalog/titles.js";
import {
  assign,
  type CatalogFile,
  PlacementInputError,
  type Plan,
  ringNeighbours,
  type Server,
} from "../../../operator/src/placement/index.js";
import { type Holders, orderPeers } from "./peer-order.js";
import type { KeptFile } from "./run.js";
import { type FillSpec, type FillSpecInput, parseFillSpec, type WantedFile } from "./spec.js";

export type PlacementInputs = Readonly<{
  placement: Placement;
  cluster: OCACluster;
  /**
   * The Placement steering serves the cluster from now (its OCACluster's status.activePlacement);
   * undefined when the cluster has none yet. The fill asks its holders of a file first.
   */
  active?: Placement | undefined;
  titles: readonly Title[];
  /** The region's snapshot; undefined when the region has none (every title then has demand 0). */
  popularity: Popularity | undefined;
  /** Every valid Placement of the namespace: the files of those kept stay on disk (keptFiles). */
  placements?: readonly Placement[] | undefined;
}>;

export type FillTarget = Readonly<{
  /** The OCACluster server name this node is. */
  server: string;
  contentPath: string;
  /** The cluster's link keys (its link-key Secret), to sign fetches from peers' nginx; without them, origin only. */
  linkKeysDir: string | undefined;
}>;

/** The Active placement whose holders the fill asks first, or why there is none. */
export type ActiveHolders =
  | Readonly<{ placement: string; holders: Holders & { servers: readonly string[] }; why?: undefined }>
  | Readonly<{ placement: undefined; holders?: undefined; why: string }>;

/** The objects disagree with each other (or with --server): filling would put the wrong files on disk. */
export class PlacementMismatchError extends Error {
  override name = "PlacementMismatchError";
}

const nameOf = (o: { metadata: { namespace?: string | undefined; name: string } }) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

/** The Placement's servers with their capacities; each must be a server of the cluster. */
export function placementServers(placement: Placement, cluster: OCACluster): Server[] {
  const all = serversOf(cluster.spec);
  return placement.spec.servers.map((p, i) => {
    const s = all.find((x) => x.name === p.name);
    if (!s) {
      throw new PlacementMismatchError(
        `Placement ${nameOf(placement)} spec.servers[${i}].name: "${p.name}" is not a server of OCACluster ${nameOf(cluster)}`,
      );
    }
    return s;
  });
}

/**
 * Where the files sit now: the Active placement's ring assigned over the CURRENT catalog and the
 * cluster's current capacities (as steering locates files for a Placement computed from an older
 * catalog, steering/feed.ts), then the first server clockwise from the file on each of its rings
 * (ringNeighbours: where the file sat if yesterday's ranking put it on the other ring). The first is
 * right for ~97 % of files after a day's drift, both together for all of them in the bench catalog
 * (placement/neighbours.test.ts). A best guess (a peer without the file answers 404), so anything that
 * keeps it from being computed means no guess, with the reason, rather than a failed fill.
 */
function activeHolders(inputs: PlacementInputs, catalog: readonly CatalogFile[]): ActiveHolders {
  const { active, placement, cluster } = inputs;
  if (!active) return { placement: undefined, why: "no Active placement: the site's first fill" };
  const name = active.metadata.name;
  if (name === placement.metadata.name) return { placement: undefined, why: `${name} is already the Active one` };
  if (active.spec.cluster !== cluster.metadata.name) {
    return { placement: undefined, why: `Active placement ${name} is of cluster "${active.spec.cluster}"` };
  }
  try {
    const guess = assign(planOf(active), catalog, placementServers(active, cluster));
    const near = ringNeighbours(active.spec, 1);
    const holders = { servers: guess.servers, holdersOf: (key: string) => [...guess.holdersOf(key), ...near(key)] };
    return { placement: name, holders };
  } catch (err) {
    if (!(err instanceof PlacementMismatchError || err instanceof PlacementInputError)) throw err;
    return { placement: undefined, why: `Active placement ${name}: ${err.message}` };
  }
}

const planOf = (p: Placement): Plan => ({
  cluster: p.spec.cluster,
  catalogGeneration: p.spec.catalogGeneration,
  cutoff: p.spec.cutoff,
  servers: p.spec.servers,
});

/** The Placement belongs to the cluster, names `server`, and was computed from the catalog the objects give now. */
function checkAgree(inputs: PlacementInputs, server: string): RegionCatalog {
  const { placement, cluster } = inputs;
  if (placement.spec.cluster !== cluster.metadata.name) {
    throw new PlacementMismatchError(
      `Placement ${nameOf(placement)} spec.cluster is "${placement.spec.cluster}", not OCACluster ${nameOf(cluster)}`,
    );
  }
  if (!placement.spec.servers.some((s) => s.name === server)) {
    throw new PlacementMismatchError(
      `--server: "${server}" is not among Placement ${nameOf(placement)} spec.servers (${placement.spec.servers.map((s) => s.name).join(", ")})`,
    );
  }
  const catalog = regionCatalog(cluster.spec.region, inputs.titles, inputs.popularity);
  if (catalog.generation !== placement.spec.catalogGeneration) {
    throw new PlacementMismatchError(
      `Placement ${nameOf(placement)} spec.catalogGeneration is "${placement.spec.catalogGeneration}" but the Titles and Popularity of region ${cluster.spec.region} give "${catalog.generation}": the catalog changed since the Placement was computed`,
    );
  }
  return catalog;
}

/**
 * This server's files under `placement`, in rank order, each with the peers to ask for it (orderPeers:
 * its holders under the Active placement, then its other holders under `placement`).
 * Throws PlacementMismatchError when the objects disagree, in particular when the Placement was
 * computed from another catalog snapshot than the Titles and Popularity now give (the assignment
 * would differ from the operator's).
 */
export function assignedFiles(
  inputs: PlacementInputs,
  server: string,
): { files: WantedFile[]; servers: Server[]; active: ActiveHolders } {
  const catalog = checkAgree(inputs, server);
  const servers = placementServers(inputs.placement, inputs.cluster);
  const assignment = assign(planOf(inputs.placement), catalog.files, servers);
  const active = activeHolders(inputs, catalog.files);
  const keys = assignment.filesOf(server);
  const peers = orderPeers(server, keys, assignment, active.holders);
  const byKey = titleFiles(inputs.titles, inputs.cluster.spec.region);
  const files = keys.map((key) => {
    const f = byKey.get(key);
    if (!f) throw new PlacementMismatchError(`catalog key ${key} names no Title file`);
    return { path: f.path, bytes: f.bytes, sha256: f.sha256, peers: peers.get(key) ?? [] };
  });
  return { files, servers, active };
}

/** Drops peers the spec cannot sign for: without the link keys, every file comes from the origin. */
function reachable(files: readonly WantedFile[], peers: readonly { name: string }[]): WantedFile[] {
  return files.map((f) => ({ ...f, peers: f.peers.filter((p) => peers.some((x) => x.name === p)) }));
}

/**
 * The fill of `target.server` for `placement`: its files, the cluster's other servers that hold files
 * under this Placement or the Active one as peers (their nginx at ipv4 and edge.httpPort; none without
 * link keys to sign with), the origin, and the cap. The cluster's bandwidthCap is for all its servers
 * together and each server's fill Job paces itself alone, so each gets an equal share. `active` says
 * which Active placement the peers were ordered by, or why none.
 */
export function fillSpecFor(inputs: PlacementInputs, target: FillTarget): { spec: FillSpec; active: ActiveHolders } {
  const { cluster } = inputs;
  const { files, servers, active } = assignedFiles(inputs, target.server);
  const holding = new Set([...servers.map((s) => s.name), ...(active.holders?.servers ?? [])]);
  const port = cluster.spec.edge.httpPort;
  const peers = cluster.spec.servers
    .filter((s) => target.linkKeysDir !== undefined && s.name !== target.server && holding.has(s.name))
    .map((s) => ({ name: s.name, url: `http://${s.ipv4}${port === 80 ? "" : `:${port}`}` }));
  const spec: FillSpecInput = {
    server: target.server,
    contentPath: target.contentPath,
    bandwidthCap: parseBitsPerSecond(cluster.spec.fill.bandwidthCap) / servers.length,
    linkKeysDir: target.linkKeysDir,
    sources: { origin: cluster.spec.fill.sources.origin, peers },
    files: reachable(files, peers),
  };
  return { spec: parseFillSpec(spec), active };
}

/**
 * Catalog key → its Title file, for the Titles the region's catalog takes (catalog/titles.ts: of two
 * naming the same path, the later-created is left out, as the operator leaves it out).
 */
function titleFiles(titles: readonly Title[], region: string): Map<string, TitleFile> {
  return new Map(regionTitles(region, titles).flatMap((t) => t.spec.files.map((f) => [fileKey(t.spec.id, f.path), f])));
}

/**
 * Eviction removes every file no kept Placement names, so it runs only once steering sends clients by
 * this Placement (phase Active): before that, clients may still be sent to the old files. A Placement
 * already Superseded has nothing left to evict ("superseded": the newer one's evict does it).
 */
export function checkPromoted(placement: Placement): "active" | "superseded" {
  const phase = placement.status?.phase;
  if (phase === "Active") return "active";
  if (phase === "Superseded") return "superseded";
  throw new PlacementMismatchError(
    `Placement ${nameOf(placement)} status.phase is ${phase ?? "unset"}, not Active: evict only after promotion`,
  );
}

/**
 * The cluster's Placements whose files stay on disk: every live one (Pending, Filling, Active), and
 * every one superseded less than `graceSeconds` ago (URLs signed while it was Active still point at
 * its servers until they expire). A Superseded one without supersededAt was superseded before that
 * field existed, long enough ago.
 */
export function keptPlacements(
  all: readonly Placement[],
  cluster: string,
  now: Date,
  graceSeconds: number,
): Placement[] {
  return all.filter((p) => {
    if (p.spec.cluster !== cluster) return false;
    if (phaseOf(p) !== "Superseded") return true;
    const at = Date.parse(p.status?.supersededAt ?? "");
    return !Number.isNaN(at) && now.getTime() - at < graceSeconds * 1000;
  });
}

/**
 * Every file `server` holds under the kept Placements, each Placement assigned over the CURRENT
 * catalog, as steering locates files (steering/feed.ts). For one computed from an older snapshot that
 * is a guess (yesterday's ranking may have put a file on the other ring), so the files whose first
 * server on either of its rings is `server` stay too (ringNeighbours, as the fill asks peers): when in
 * doubt a file is kept, never deleted while a client may still be sent to it.
 * Throws PlacementMismatchError when one cannot be assigned (a server it names has left the cluster):
 * then what it names is unknown, and nothing may be deleted.
 */
export function keptFiles(
  inputs: Pick<PlacementInputs, "cluster" | "titles" | "popularity">,
  kept: readonly Placement[],
  server: string,
): KeptFile[] {
  const { cluster } = inputs;
  const catalog = regionCatalog(cluster.spec.region, inputs.titles, inputs.popularity);
  const byKey = titleFiles(inputs.titles, cluster.spec.region);
  const out = new Map<string, KeptFile>();
  for (const p of kept) {
    if (!p.spec.servers.some((s) => s.name === server)) continue;
    let keys: readonly string[];
    try {
      keys = assign(planOf(p), catalog.files, placementServers(p, cluster)).filesOf(server);
    } catch (err) {
      if (!(err instanceof PlacementInputError)) throw err;
      throw new PlacementMismatchError(`Placement ${nameOf(p)}: ${err.message}`, { cause: err });
    }
    if (p.spec.catalogGeneration !== catalog.generation) {
      const near = ringNeighbours(p.spec, 1);
      keys = [...keys, ...catalog.files.filter((f) => near(f.key).includes(server)).map((f) => f.key)];
    }
    for (const key of keys) {
      const f = byKey.get(key);
      if (f) out.set(f.path, { path: f.path, sha256: f.sha256 });
    }
  }
  return [...out.values()];
}
