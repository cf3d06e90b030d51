/** Fixtures for the rules' tests: the kind fleet's five-rung h264 ladder, 4 s chunks, a 60 s buffer. */
import type { AbrInput, Download, Rendition } from "./types.js";

export const LADDER: readonly Rendition[] = [
  { bitrateBps: 235_000, vmaf: 35 },
  { bitrateBps: 750_000, vmaf: 57 },
  { bitrateBps: 1_750_000, vmaf: 72 },
  { bitrateBps: 3_000_000, vmaf: 84 },
  { bitrateBps: 5_800_000, vmaf: 93 },
];

/** Constant-bitrate chunks: every chunk is its rendition's mean. */
export const cbr = (q: number): number => ((LADDER[q]?.bitrateBps ?? 0) * 4) / 8;

/** A download of rendition q at `bps`. */
export const at = (bps: number, q = 0): Download => ({ quality: q, bytes: cbr(q), seconds: (cbr(q) * 8) / bps });

export function input(over: Partial<AbrInput> = {}): AbrInput {
  return {
    bufferS: 0,
    maxBufferS: 60,
    ladder: LADDER,
    history: [],
    chunkSeconds: 4,
    chunkBytes: (q) => cbr(q),
    idleS: 0,
    rebuffered: false,
    ...over,
  };
}
