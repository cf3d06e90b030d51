/**
 * Bandwidth traces: piecewise-constant link rates over time, the same input for the simulator (which
 * integrates them) and for real playback (tc follows them segment by segment). Seeded: a name and a
 * seed give the same trace on every machine.
 *
 * The generator is a Markov chain over MARKOV_LEVELS (log-spaced 0.3–20 Mbit/s) plus an outage state:
 * - the chain dwells in a level for an exponential time (mean 10 s), then moves one level up or down
 *   (40 % each), two levels (8 % each), or into an outage (4 %);
 * - within a level the rate wobbles each second by a log-normal factor (σ = 0.15), as cross traffic does;
 * - an outage carries nothing for an exponential time (mean 2.5 s, at most 10 s), then the chain resumes
 *   at the level it left.
 * The starting level is drawn uniformly. Mean rates over a 10 min trace spread from ~0.5 to ~15 Mbit/s.
 */

export type TraceSegment = Readonly<{ seconds: number; bps: number }>;
export type Trace = Readonly<{ name: string; rttMs: number; segments: readonly TraceSegment[] }>;

export const MARKOV_LEVELS = [0.3e6, 0.55e6, 1e6, 1.8e6, 3.3e6, 6e6, 11e6, 20e6] as const;
const DWELL_MEAN_S = 10;
const OUTAGE_MEAN_S = 2.5;
const OUTAGE_MAX_S = 10;
const WOBBLE_SIGMA = 0.15;

/** splitmix32: a small seeded PRNG (the same as placement's, kept here so the player needs nothing of it). */
export function rng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const exponential = (next: () => number, mean: number) => -mean * Math.log(1 - next());
const normal = (next: () => number) => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

/** A Markov trace of `seconds` length (1 s steps; an outage at a second's granularity too). */
export function markovTrace(seed: number, seconds: number, rttMs = 40): Trace {
  const next = rng(seed);
  const top = MARKOV_LEVELS.length - 1;
  let level = Math.floor(next() * MARKOV_LEVELS.length);
  const segments: TraceSegment[] = [];
  let t = 0;
  while (t < seconds) {
    const dwell = Math.max(1, Math.round(exponential(next, DWELL_MEAN_S)));
    for (let k = 0; k < dwell && t < seconds; k++, t++) {
      const wobble = Math.exp(WOBBLE_SIGMA * normal(next));
      segments.push({ seconds: 1, bps: Math.round((MARKOV_LEVELS[level] ?? 1e6) * wobble) });
    }
    const u = next();
    if (u < 0.04) {
      const out = Math.min(OUTAGE_MAX_S, Math.max(1, Math.round(exponential(next, OUTAGE_MEAN_S))));
      segments.push({ seconds: Math.min(out, Math.max(1, seconds - t)), bps: 0 });
      t += out;
    } else {
      const step = u < 0.44 ? 1 : u < 0.84 ? -1 : u < 0.92 ? 2 : -2;
      level = Math.min(top, Math.max(0, level + step));
    }
  }
  return { name: `markov-${seed}`, rttMs, segments };
}

/** The fixed shapes, each `seconds` long: what the targets are checked against by eye. */
export function fixedTraces(seconds: number, rttMs = 40): Trace[] {
  const flat = (name: string, bps: number): Trace => ({ name, rttMs, segments: [{ seconds, bps }] });
  const third = Math.round(seconds / 3);
  const saw: TraceSegment[] = [];
  for (let t = 0; t < seconds; t += 10) {
    // 60 s teeth: the rate climbs from 0.5 to 8 Mbit/s in 10 s steps, then drops at once.
    const phase = (t % 60) / 50;
    saw.push({ seconds: Math.min(10, seconds - t), bps: Math.round(0.5e6 + phase * 7.5e6) });
  }
  return [
    flat("flat-5mbit", 5e6),
    {
      name: "step-down",
      rttMs,
      segments: [
        { seconds: third, bps: 8e6 },
        { seconds: seconds - third, bps: 1.5e6 },
      ],
    },
    {
      name: "cliff",
      rttMs,
      segments: [
        { seconds: third, bps: 10e6 },
        { seconds: 20, bps: 0.3e6 },
        { seconds: seconds - third - 20, bps: 10e6 },
      ],
    },
    { name: "sawtooth", rttMs, segments: saw },
  ];
}

/** The benchmark's trace set: the fixed shapes, then Markov traces with seeds 1.. up to `count` in all. */
export function traceSet(count: number, seconds: number): Trace[] {
  const fixed = fixedTraces(seconds);
  const markov = Array.from({ length: Math.max(0, count - fixed.length) }, (_, i) => markovTrace(i + 1, seconds));
  return [...fixed, ...markov].slice(0, count);
}

/** Total length, and the mean rate over it (outages included). */
export function traceStats(t: Trace): { seconds: number; meanBps: number; outageSeconds: number } {
  let seconds = 0;
  let bits = 0;
  let outageSeconds = 0;
  for (const s of t.segments) {
    seconds += s.seconds;
    bits += s.seconds * s.bps;
    if (s.bps === 0) outageSeconds += s.seconds;
  }
  return { seconds, meanBps: seconds > 0 ? bits / seconds : 0, outageSeconds };
}
