/**
 * What a session plays: the video rungs of a manifest, lowest bitrate first, each with its chunk sizes
 * and its ranked URLs. Built from a validated PlaybackManifest (`contentOf`), or for the simulator from a
 * synthetic title (`syntheticContent`) with the same chunk sizes steering would hand out.
 */
import type { PlaybackManifest } from "../../operator/src/api/manifest.js";
import { CHUNK_SECONDS, chunkCount, chunkDuration, chunkSizes } from "../../operator/src/ladder/chunks.js";
import type { Rendition } from "./abr/types.js";

export type Content = Readonly<{
  title: string;
  durationSeconds: number;
  chunkSeconds: number;
  ladder: readonly Rendition[];
  /** Per rung, per chunk: its size in bytes. */
  chunkBytes: readonly (readonly number[])[];
  /** Per rung: its URLs, best server first. */
  urls: readonly (readonly string[])[];
}>;

/** Thrown for a manifest a player cannot play: it names what is wrong. */
export class UnplayableManifestError extends Error {
  override name = "UnplayableManifestError";
}

/** The manifest's first video ladder entry as Content; throws UnplayableManifestError without one. */
export function contentOf(m: PlaybackManifest): Content {
  const video = m.ladder.find((e) => e.kind === "video");
  if (video === undefined) throw new UnplayableManifestError("ladder: no video entry");
  if (m.durationSeconds === undefined || m.chunkSeconds === undefined)
    throw new UnplayableManifestError("durationSeconds, chunkSeconds: required to address chunks");
  const rungs = [...video.rungs].sort((a, b) => a.bitrateKbps - b.bitrateKbps);
  const chunkBytes = rungs.map((r, i) => {
    if (r.chunkBytes === undefined)
      throw new UnplayableManifestError(`ladder video rung ${i} (${r.path}): chunkBytes is missing`);
    return r.chunkBytes;
  });
  return {
    title: m.title,
    durationSeconds: m.durationSeconds,
    chunkSeconds: m.chunkSeconds,
    ladder: rungs.map((r) => ({ bitrateBps: r.bitrateKbps * 1000, vmaf: r.vmaf })),
    chunkBytes,
    urls: rungs.map((r) => r.urls),
  };
}

/** The kind fleet's five h264 renditions (hack/kind/fleet-objects.ts): kbps and VMAF. */
export const BENCH_LADDER: readonly Readonly<{ kbps: number; vmaf: number; height: number }>[] = [
  { kbps: 235, vmaf: 35, height: 234 },
  { kbps: 750, vmaf: 57, height: 360 },
  { kbps: 1750, vmaf: 72, height: 540 },
  { kbps: 3000, vmaf: 84, height: 720 },
  { kbps: 5800, vmaf: 93, height: 1080 },
];

/** A title of the bench ladder with steering's chunk sizes; `servers` fake URLs per rung. */
export function syntheticContent(titleId: string, durationSeconds: number, servers = 2): Content {
  const chunkBytes = BENCH_LADDER.map((r) => {
    const bytes = Math.round((r.kbps * 1000 * durationSeconds) / 8);
    const path = `${titleId}/video/h264/${r.height}p-${r.kbps}k.mp4`;
    return chunkSizes({ titleId, path, bytes, durationSeconds }) ?? [];
  });
  return {
    title: titleId,
    durationSeconds,
    chunkSeconds: CHUNK_SECONDS,
    ladder: BENCH_LADDER.map((r) => ({ bitrateBps: r.kbps * 1000, vmaf: r.vmaf })),
    chunkBytes,
    urls: BENCH_LADDER.map((r) => Array.from({ length: servers }, (_, s) => `sim://server-${s}/${r.kbps}`)),
  };
}

export { chunkCount, chunkDuration };
