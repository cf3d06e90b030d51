/**
 * BBA-1 (Huang et al., "A Buffer-Based Approach to Rate Adaptation", SIGCOMM 2014, §5): the rate is a
 * function of the buffer alone, outside a startup that the reservoir covers.
 *
 * - **Reservoir** r: below it, the lowest rendition. BBA-1 sizes it from the upcoming chunks: the
 *   buffer that downloading the next 2 × max-buffer seconds of chunks at the lowest rendition would
 *   consume if the link ran at exactly that rendition's bitrate (big chunks take longer than they
 *   play), clamped to [2 chunks, 40 % of the max buffer] (the paper: [8 s, 140 s] of 240 s).
 * - **Cushion** cu, from r to 90 % of the max buffer: the chunk map f(B) rises linearly from the lowest
 *   to the highest rendition's mean chunk size; above r + cu, the highest rendition.
 * - **Chunk map**: renditions are compared by the size of *their next chunk* against f(B), so a
 *   rendition whose next chunk is large is taken only with the buffer to pay for it (the paper's fix
 *   for VBR encodes).
 * - **Hysteresis** (Rate+ / Rate−): the rendition changes only when f(B) passes the next chunk of the
 *   rendition above (then the highest whose next chunk is below f(B)) or falls to the one below (then
 *   the lowest whose next chunk is above f(B)).
 */
import { type AbrInput, type AbrRule, lastQuality } from "./types.js";

export const BBA_RESERVOIR_MIN_CHUNKS = 2;
export const BBA_RESERVOIR_MAX_SHARE = 0.4;
export const BBA_UPPER_SHARE = 0.9;

/** The reservoir in seconds (see the module comment). */
export function bbaReservoir(input: AbrInput): number {
  const rmin = input.ladder[0]?.bitrateBps ?? 1;
  const horizon = Math.ceil((2 * input.maxBufferS) / input.chunkSeconds);
  let drain = 0;
  let worst = 0;
  for (let k = 0; k < horizon; k++) {
    const bytes = input.chunkBytes(0, k);
    if (bytes === undefined) break;
    drain += (bytes * 8) / rmin - input.chunkSeconds;
    worst = Math.max(worst, drain);
  }
  const lo = BBA_RESERVOIR_MIN_CHUNKS * input.chunkSeconds;
  return Math.min(Math.max(worst, lo), BBA_RESERVOIR_MAX_SHARE * input.maxBufferS);
}

/** f(B): the chunk size in bytes the buffer affords, from the lowest to the highest mean chunk size. */
export function bbaChunkMap(input: AbrInput, reservoir: number): number {
  const mean = (q: number) => ((input.ladder[q]?.bitrateBps ?? 0) * input.chunkSeconds) / 8;
  const lo = mean(0);
  const hi = mean(input.ladder.length - 1);
  const upper = BBA_UPPER_SHARE * input.maxBufferS;
  if (input.bufferS <= reservoir) return lo;
  if (input.bufferS >= upper) return hi;
  return lo + ((hi - lo) * (input.bufferS - reservoir)) / (upper - reservoir);
}

export const bbaRule: AbrRule<undefined> = {
  name: "bba",
  initial: () => undefined,
  decide(input) {
    const top = input.ladder.length - 1;
    const prev = Math.min(lastQuality(input.history) ?? 0, top);
    const reservoir = bbaReservoir(input);
    const pick = (quality: number) => [{ quality, delayS: 0 }, undefined] as const;
    if (input.bufferS <= reservoir) return pick(0);
    if (input.bufferS >= BBA_UPPER_SHARE * input.maxBufferS) return pick(top);
    const f = bbaChunkMap(input, reservoir);
    // Past the title's end no chunk follows; the mean size stands in (it is never fetched).
    const next = (q: number) => input.chunkBytes(q, 0) ?? ((input.ladder[q]?.bitrateBps ?? 0) * input.chunkSeconds) / 8;
    const up = Math.min(prev + 1, top);
    const down = Math.max(prev - 1, 0);
    if (f >= next(up)) {
      let q = prev;
      for (let i = prev; i <= top; i++) if (next(i) < f) q = i;
      return pick(q);
    }
    if (f <= next(down)) {
      let q = prev;
      for (let i = prev; i >= 0; i--) if (next(i) > f) q = i;
      return pick(q);
    }
    return pick(prev);
  },
};
