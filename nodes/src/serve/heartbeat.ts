import type { KtlsState } from "../ktls.js";
import type { StubStatus } from "./stub-status.js";

export const GROUP = "cdn.edgefleet.dev";
export const KTLS_ANNOTATION = `${GROUP}/ktls`;
export const LOAD_ANNOTATION = `${GROUP}/load`;

/** One reading of the node's counters. */
export type Sample = Readonly<{
  atMs: number;
  nginx: StubStatus | undefined;
  bytesSent: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
}>;

export type Load = Readonly<{
  connections: number;
  bytesPerSec: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
  ktls: KtlsState;
}>;

/** Load between two samples; the first sample (no previous) reports 0 bytes/s rather than a guess. */
export function computeLoad(prev: Sample | undefined, cur: Sample, ktls: KtlsState): Load {
  const dt = prev ? (cur.atMs - prev.atMs) / 1000 : 0;
  const bytesPerSec = prev && dt > 0 ? Math.max(0, cur.bytesSent - prev.bytesSent) / dt : 0;
  return {
    connections: cur.nginx?.active ?? 0,
    bytesPerSec: Math.round(bytesPerSec),
    diskUsedBytes: cur.diskUsedBytes,
    diskTotalBytes: cur.diskTotalBytes,
    ktls,
  };
}

export type LeaseObject = Readonly<{
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
}>;

/** The heartbeat: a Lease per server, renewed every interval, carrying its load. Steering treats a Lease
 *  older than leaseDurationSeconds as a dead server. */
export function heartbeatLease(
  server: string,
  namespace: string,
  load: Load,
  now: Date,
  leaseDurationSeconds: number,
): LeaseObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: `edge-${server}`,
      namespace,
      labels: { [`${GROUP}/server`]: server },
      annotations: { [LOAD_ANNOTATION]: JSON.stringify(load), [KTLS_ANNOTATION]: load.ktls },
    },
    spec: { holderIdentity: server, leaseDurationSeconds, renewTime: microTime(now) },
  };
}

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
