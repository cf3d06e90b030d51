/**
 * What steering needs to know, as plain data: the narrow input the lead feeds from informers
 * (OCAClusters, heartbeats, Titles, active Placements). Shapes are structural subsets of the API
 * types in operator/src/api, so an `OCAClusterSpec` field or a `LadderEntry` can be passed as is.
 */

export type LatLon = Readonly<{ lat: number; lon: number }>;

/** One BGP announcement to a site (OCAClusterSpec.prefixes[]). */
export type Announcement = Readonly<{
  cidr: string;
  /** Nearest AS first; empty when the peer itself originates the prefix. */
  asPath: readonly number[];
  med: number;
  localPref: number;
}>;

/** A server a client can be sent to (OCAClusterSpec.servers[]). */
export type ServerEndpoint = Readonly<{ name: string; ipv4?: string | undefined; ipv6?: string | undefined }>;

/** An OCACluster as steering sees it: `name` is metadata.name, the rest comes from the spec. */
export type ClusterView = Readonly<{
  name: string;
  region: string;
  /** The AS the site peers with (spec.site.asn): the neighbour AS of announcements with an empty path. */
  asn: number;
  location: LatLon;
  servers: readonly ServerEndpoint[];
  prefixes: readonly Announcement[];
  /** Port of the edge's HTTPS listener (spec.edge.httpsPort); 443 when absent. */
  httpsPort?: number | undefined;
}>;

/**
 * The heartbeats of a cluster's servers, as whoever receives them saw them. Build it with
 * `clusterHealth` (liveness.ts), which derives `expiresAtMs` from `servers`.
 */
export type ClusterHealth = Readonly<{
  /**
   * Per server of the cluster (by ServerEndpoint.name) that has a heartbeat: until when (epoch ms, the
   * receiver's clock) it is live, its own lease duration after the receiver saw its Lease renewed. A
   * server missing here has no heartbeat (yet) and is not live.
   */
  servers: ReadonlyMap<string, number>;
  /** Until when the cluster has a live server: the latest of `servers` (-Infinity without any). */
  expiresAtMs: number;
  /** Fraction of the cluster's serving capacity in use, 0..1. */
  load: number;
  /** The cluster says it takes no new clients, whatever its load. */
  saturated?: boolean | undefined;
  /**
   * The link key ids every live server that reports them holds (its nginx's keys, from its heartbeat),
   * so steering signs only with a kid the cluster's edges can check; undefined when none reports.
   */
  linkKids?: ReadonlySet<string> | undefined;
}>;

/** One rendition of a title's convex-hull ladder (TitleStatus.ladder[].rungs[]). */
export type Rung = Readonly<{
  path: string;
  bitrateKbps: number;
  resolution?: string | undefined;
  vmaf?: number | undefined;
  /** The file's size (TitleFile.bytes): with the title's duration it gives the chunk index (ladder/chunks.ts). */
  bytes?: number | undefined;
}>;

export type LadderEntry = Readonly<{ kind: string; codec: string; rungs: readonly Rung[] }>;

export type TitleView = Readonly<{
  id: string;
  ladder: readonly LadderEntry[];
  /** TitleSpec.durationSeconds; without it (or a rung's bytes) the manifest has no chunk index. */
  durationSeconds?: number | undefined;
}>;

/**
 * The servers of a cluster that hold a file under the cluster's ACTIVE placement, primary first; empty
 * when the active placement does not hold it (a title newer than the placement's catalog is not filled
 * yet). A hot file may have several holders (HCA replicates where one server's throughput is not
 * enough); the manifest sends each client to one of them that is live (playback.ts `pickHolder`).
 * Only these servers may be named for the file: any other does not have it.
 */
export type LocateFile = (path: string) => readonly string[];
