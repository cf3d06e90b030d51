import { describe, expect, it } from "vitest";
import { CHUNK_SECONDS, chunkCount, chunkDuration, chunkRanges, chunkSizes, shotComplexity } from "./chunks.js";

const file = (over: Partial<Parameters<typeof chunkSizes>[0]> = {}) => ({
  titleId: "night-train",
  path: "night-train/av1-1080p-4500k.mp4",
  bytes: Math.round((4_500_000 * 600) / 8),
  durationSeconds: 600,
  ...over,
});

describe("chunkSizes", () => {
  it.each([
    { name: "10 min, whole chunks", durationSeconds: 600, bytes: 337_500_000 },
    { name: "a remainder chunk", durationSeconds: 10, bytes: 1_234_567 },
    { name: "one chunk", durationSeconds: 3, bytes: 999 },
    { name: "exactly one byte a chunk", durationSeconds: 40, bytes: 10 },
  ])("$name: sizes add up to the file, none empty", ({ durationSeconds, bytes }) => {
    const s = chunkSizes(file({ durationSeconds, bytes }));
    expect(s).toHaveLength(chunkCount(durationSeconds));
    expect(s?.reduce((a, b) => a + b, 0)).toBe(bytes);
    expect(Math.min(...(s ?? []))).toBeGreaterThanOrEqual(1);
  });

  it("fewer bytes than chunks: no index", () =>
    expect(chunkSizes(file({ durationSeconds: 40, bytes: 9 }))).toBeUndefined());

  it("is deterministic, and differs by title and by rendition", () => {
    expect(chunkSizes(file())).toEqual(chunkSizes(file()));
    expect(chunkSizes(file({ titleId: "other" }))).not.toEqual(chunkSizes(file()));
    expect(chunkSizes(file({ path: "night-train/other.mp4" }))).not.toEqual(chunkSizes(file()));
  });

  it("varies by shot, like per-shot encodes (coefficient of variation 0.3–0.7), the same shots on every rung", () => {
    const hi = chunkSizes(file()) ?? [];
    const lo = chunkSizes(file({ path: "night-train/av1-360p-600k.mp4", bytes: 45_000_000 })) ?? [];
    const mean = hi.reduce((a, b) => a + b, 0) / hi.length;
    const cv = Math.sqrt(hi.reduce((a, b) => a + (b - mean) ** 2, 0) / hi.length) / mean;
    expect(cv).toBeGreaterThan(0.3);
    expect(cv).toBeLessThan(0.7);
    // Chunk-to-chunk the rungs move together: a hard scene is hard at every bitrate.
    const corr = correlation(hi, lo);
    expect(corr).toBeGreaterThan(0.9);
  });

  it("a shorter last chunk gets a proportionally smaller share", () => {
    expect(chunkDuration(10, 2)).toBe(2);
    const c = shotComplexity("t", 10);
    expect(c).toHaveLength(3);
  });
});

describe("chunkRanges", () => {
  it("lays the chunks end to end from byte 0, inclusive ends as in HTTP Range", () =>
    expect(chunkRanges([3, 1, 5])).toEqual([
      { start: 0, end: 2 },
      { start: 3, end: 3 },
      { start: 4, end: 8 },
    ]));
  it("chunks are CHUNK_SECONDS long (2–4 s)", () => {
    expect(CHUNK_SECONDS).toBeGreaterThanOrEqual(2);
    expect(CHUNK_SECONDS).toBeLessThanOrEqual(4);
  });
});

function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
