/**
 * The edge heartbeat: one coordination.k8s.io Lease per server, renewed by its edge agent, carrying its
 * load. The agent writes it; the OCACluster controller reads health from it and steering reads health
 * and load. A server is dead once its own leaseDurationSeconds have passed since its reader last saw the
 * Lease renewed (heartbeatExpiry), by the reader's clock: never the edge node's, which may be off.
 */
import { z } from "zod";
import { group } from "./common.js";

export const clusterLabel = `${group}/cluster`;
export const serverLabel = `${group}/server`;
export const loadAnnotation = `${group}/load`;
export const ktlsAnnotation = `${group}/ktls`;
/** The link key ids the server's nginx holds now, comma-separated (steering signs only with one of them). */
export const linkKidsAnnotation = `${group}/link-kids`;
const KIDS = /^[a-z0-9-]{1,16}(,[a-z0-9-]{1,16})*$/;

export const KtlsState = z.enum(["active", "unavailable"]);
export type KtlsState = z.infer<typeof KtlsState>;

export const EdgeLoad = z.strictObject({
  connections: z.int().min(0),
  bytesPerSec: z.number().min(0),
  diskUsedBytes: z.int().min(0),
  diskTotalBytes: z.int().min(0),
  ktls: KtlsState,
});
export type EdgeLoad = z.infer<typeof EdgeLoad>;

export const heartbeatLeaseName = (cluster: string, server: string): string => `edge-${cluster}-${server}`;

export type HeartbeatLease = {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
};

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function heartbeatLease(
  a: Readonly<{
    namespace: string;
    cluster: string;
    server: string;
    load: EdgeLoad;
    now: Date;
    leaseDurationSeconds: number;
    /** The kids the server's nginx holds keys for; undefined when it could not be asked (no annotation). */
    linkKids?: readonly string[] | undefined;
  }>,
): HeartbeatLease {
  const kids: Record<string, string> = a.linkKids === undefined ? {} : { [linkKidsAnnotation]: a.linkKids.join(",") };
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: heartbeatLeaseName(a.cluster, a.server),
      namespace: a.namespace,
      labels: { [clusterLabel]: a.cluster, [serverLabel]: a.server },
      annotations: { [loadAnnotation]: JSON.stringify(a.load), [ktlsAnnotation]: a.load.ktls, ...kids },
    },
    spec: { holderIdentity: a.server, leaseDurationSeconds: a.leaseDurationSeconds, renewTime: microTime(a.now) },
  };
}

export type Heartbeat = Readonly<{
  cluster: string;
  server: string;
  /** The edge node's clock, as written: for display only, never compared with a reader's clock. */
  renewTime: Date;
  leaseDurationSeconds: number;
  /** Undefined when the annotation is missing or malformed: health still counts, load is unknown. */
  load: EdgeLoad | undefined;
  /** The link key ids its nginx holds; undefined when the annotation is missing or malformed. */
  linkKids: readonly string[] | undefined;
}>;

/** Reads a heartbeat from any Lease; undefined for Leases that are not edge heartbeats. */
export function heartbeatOf(lease: {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
}): Heartbeat | undefined {
  const cluster = lease.metadata.labels?.[clusterLabel];
  const server = lease.metadata.labels?.[serverLabel];
  const spec = (lease.spec ?? {}) as { renewTime?: string; leaseDurationSeconds?: number };
  const renewTime = new Date(spec.renewTime ?? "");
  if (!cluster || !server || Number.isNaN(renewTime.getTime())) return undefined;
  let load: EdgeLoad | undefined;
  try {
    const r = EdgeLoad.safeParse(JSON.parse(lease.metadata.annotations?.[loadAnnotation] ?? ""));
    load = r.success ? r.data : undefined;
  } catch {
    load = undefined;
  }
  const kids = lease.metadata.annotations?.[linkKidsAnnotation];
  // "" is a server that holds no key at all (its Secret not mounted yet): it accepts nothing.
  const linkKids = kids === "" ? [] : kids !== undefined && KIDS.test(kids) ? kids.split(",") : undefined;
  return { cluster, server, renewTime, leaseDurationSeconds: spec.leaseDurationSeconds ?? 30, load, linkKids };
}

/**
 * The longest lease a heartbeat may claim. The edge's serve settings allow no more, the chart's
 * admission policy refuses an agent's Lease with more, and readers count no more: a Lease written once
 * with a lease duration of years would otherwise keep a dead server live that long.
 */
export const maxLeaseDurationSeconds = 300;

/**
 * When a server's heartbeat goes stale for a reader that observed its last renewal at `observedAtMs`
 * (epoch ms, the reader's own clock): its own lease duration later, at most maxLeaseDurationSeconds.
 * The Lease's renewTime is the edge node's clock and is never read for liveness, so one forged in the
 * future buys nothing: readers judge a Lease by when they saw it change, as client-go's leader election
 * and the node lifecycle controller do, and a Lease that stops changing goes stale on their clock.
 */
export function heartbeatExpiry(hb: Pick<Heartbeat, "leaseDurationSeconds">, observedAtMs: number): number {
  return observedAtMs + Math.min(hb.leaseDurationSeconds, maxLeaseDurationSeconds) * 1000;
}

/** Stale: the reader's clock is past the heartbeat's expiry (fresh up to and at it). */
export const isStale = (expiresAtMs: number, nowMs: number): boolean => nowMs > expiresAtMs;
