/**
 * Chunks a player can address: every rendition of a title is a run of CHUNK_SECONDS chunks (the last
 * one shorter when the duration is not a multiple), laid end to end in the file, chunk i at bytes
 * [sum of sizes before i, + size i). The file's bytes do not change (the origin's synthetic media and
 * the Titles' sha256 stay as they are); only where a chunk starts and ends is decided here.
 *
 * Sizes vary the way per-shot encodes do: the title is cut into shots (geometric lengths, mean
 * SHOT_MEAN_CHUNKS chunks) and each shot has a complexity (log-normal, σ = SHOT_SIGMA) shared by every
 * rendition of the title, since a hard scene is hard at every bitrate; each rendition adds a little noise
 * of its own (σ = RUNG_SIGMA). A chunk's size is proportional to complexity × noise × its duration,
 * scaled so that the sizes add up to the file's bytes exactly: the mean is bitrate × duration.
 * Deterministic: the same (title, path, bytes, duration) gives the same sizes in steering and in tests.
 */
import { createHash } from "node:crypto";

export const CHUNK_SECONDS = 4;
const SHOT_MEAN_CHUNKS = 3;
const SHOT_SIGMA = 0.45;
const RUNG_SIGMA = 0.1;

/** splitmix32 seeded from a string's SHA-256: the same string gives the same sequence everywhere. */
function seeded(s: string): { next: () => number; normal: () => number } {
  let state = createHash("sha256").update(s).digest().readUInt32LE(0) | 0;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal };
}

/** How many chunks a title of this duration has, and the duration of chunk i. */
export const chunkCount = (durationSeconds: number): number => Math.ceil(durationSeconds / CHUNK_SECONDS);
export const chunkDuration = (durationSeconds: number, i: number): number =>
  Math.min(CHUNK_SECONDS, durationSeconds - i * CHUNK_SECONDS);

/** Per chunk, the title's scene complexity (mean 1 over shots): the same for every rendition. */
export function shotComplexity(titleId: string, durationSeconds: number): number[] {
  const rng = seeded(`shots/${titleId}`);
  const out: number[] = [];
  const n = chunkCount(durationSeconds);
  while (out.length < n) {
    const c = Math.exp(SHOT_SIGMA * rng.normal() - (SHOT_SIGMA * SHOT_SIGMA) / 2);
    // Geometric shot length, at least one chunk.
    const len = 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - 1 / SHOT_MEAN_CHUNKS));
    for (let k = 0; k < len && out.length < n; k++) out.push(c);
  }
  return out;
}

export type ChunkedFile = Readonly<{ titleId: string; path: string; bytes: number; durationSeconds: number }>;

/**
 * Each chunk's size in bytes, summing to `bytes` exactly (largest remainders); undefined when the file
 * has fewer bytes than chunks (no chunk may be empty: an empty HTTP range does not exist).
 */
export function chunkSizes(
  f: ChunkedFile,
  complexity = shotComplexity(f.titleId, f.durationSeconds),
): number[] | undefined {
  const n = chunkCount(f.durationSeconds);
  if (f.bytes < n) return undefined;
  const rng = seeded(`chunks/${f.titleId}/${f.path}`);
  const w = complexity.map((c, i) => c * Math.exp(RUNG_SIGMA * rng.normal()) * chunkDuration(f.durationSeconds, i));
  const total = w.reduce((a, b) => a + b, 0);
  // One byte each up front, the rest by weight, so that no chunk is empty.
  const spare = f.bytes - n;
  const exact = w.map((x) => (x / total) * spare);
  const sizes = exact.map((x) => 1 + Math.floor(x));
  let left = f.bytes - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    sizes[i] = (sizes[i] ?? 0) + 1;
  }
  return sizes;
}

/** The byte range [start, end] (inclusive, as in an HTTP Range header) of every chunk, from its sizes. */
export function chunkRanges(sizes: readonly number[]): { start: number; end: number }[] {
  let off = 0;
  return sizes.map((s) => {
    const r = { start: off, end: off + s - 1 };
    off += s;
    return r;
  });
}
