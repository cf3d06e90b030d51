/**
 * The classic capacity-estimating baseline: the harmonic mean of the last 5 chunk downloads'
 * throughputs, times a safety factor of 0.9, picks the highest rendition at or below it; the lowest
 * before anything was measured. Harmonic, because one fast download must not lift the estimate much.
 */
import { type AbrRule, harmonicThroughput, qualityForThroughput } from "./types.js";

export const THROUGHPUT_SAMPLES = 5;
export const THROUGHPUT_SAFETY = 0.9;

export const throughputRule: AbrRule<undefined> = {
  name: "throughput",
  initial: () => undefined,
  decide(input) {
    const bps = harmonicThroughput(input.history, THROUGHPUT_SAMPLES);
    const quality = bps === 0 ? 0 : qualityForThroughput(input.ladder, bps * THROUGHPUT_SAFETY);
    return [{ quality, delayS: 0 }, undefined];
  },
};
