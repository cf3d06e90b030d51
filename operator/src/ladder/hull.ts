/**
 * The convex-hull ladder (per-title encoding): of all renditions of one codec, offer those on the
 * upper convex hull of (bitrate, VMAF). A rendition under the hull is beaten by mixing its two
 * neighbours on the hull at the same average bitrate, so a player should never pick it; this is also
 * how one resolution gives way to the next as bitrate rises.
 */
import type { LadderEntry, Rung, TitleFile } from "../api/index.js";

/**
 * The upper convex hull of items as (x, y) points, by rising x, keeping only points where y rises.
 * Dominated points (no better y for more x) and points on a hull edge (collinear) are dropped; of
 * equal points the first wins. Pure; O(n log n).
 */
export function upperHull<T>(items: readonly T[], x: (t: T) => number, y: (t: T) => number): T[] {
  const byX = items.map((t, i) => ({ t, i, x: x(t), y: y(t) })).sort((a, b) => a.x - b.x || b.y - a.y || a.i - b.i);
  const hull: typeof byX = [];
  for (const p of byX) {
    const last = hull.at(-1);
    if (last && p.y <= last.y) continue; // dominated: costs as much or more, no better
    for (;;) {
      const a = hull.at(-1);
      const o = hull.at(-2);
      // Pop a while it lies on or below the segment o → p (o, a, p is not a clockwise turn).
      if (!a || !o || (a.x - o.x) * (p.y - o.y) - (a.y - o.y) * (p.x - o.x) < 0) break;
      hull.pop();
    }
    hull.push(p);
  }
  return hull.map((p) => p.t);
}

const kindOrder = { video: 0, audio: 1, text: 2 } as const;

function rung(f: TitleFile): Rung {
  return {
    path: f.path,
    bitrateKbps: f.bitrateKbps,
    ...(f.resolution === undefined ? {} : { resolution: f.resolution }),
    ...(f.vmaf === undefined ? {} : { vmaf: f.vmaf }),
  };
}

/**
 * Audio and text have no quality score, and files of equal bitrate differ in what the API does not
 * model (language, say), so all of them are offered, by rising bitrate, then path.
 */
function byBitrate(files: readonly TitleFile[]): TitleFile[] {
  return [...files].sort((a, b) => a.bitrateKbps - b.bitrateKbps || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A title's ladder: one entry per (kind, codec), video first, then audio, then text, codecs in name
 * order. Video rungs are the (bitrate, VMAF) upper hull; a video file without VMAF cannot be ranked
 * and is left out (the API requires VMAF on video, so this only happens for unvalidated input).
 */
export function buildLadder(files: readonly TitleFile[]): LadderEntry[] {
  const groups = new Map<string, TitleFile[]>();
  for (const f of files) {
    const key = `${f.kind}/${f.codec}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const entries: LadderEntry[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const chosen =
      first.kind === "video"
        ? upperHull(
            group.filter((f) => f.vmaf !== undefined),
            (f) => f.bitrateKbps,
            (f) => f.vmaf ?? 0,
          )
        : byBitrate(group);
    if (chosen.length > 0) entries.push({ kind: first.kind, codec: first.codec, rungs: chosen.map(rung) });
  }
  return entries.sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || (a.codec < b.codec ? -1 : 1));
}

/** Bytes of every file of a title, for status.totalBytes. */
export function totalBytes(files: readonly TitleFile[]): number {
  return files.reduce((sum, f) => sum + f.bytes, 0);
}
