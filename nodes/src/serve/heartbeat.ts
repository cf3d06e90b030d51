import type { EdgeLoad, KtlsState } from "../../../operator/src/api/index.js";
import type { StubStatus } from "./stub-status.js";

/** One reading of the node's counters. */
export type Sample = Readonly<{
  atMs: number;
  nginx: StubStatus | undefined;
  bytesSent: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
}>;

/** Load between two samples; the first sample (no previous) reports 0 bytes/s rather than a guess. */
export function computeLoad(prev: Sample | undefined, cur: Sample, ktls: KtlsState): EdgeLoad {
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
