/**
 * BOLA-BASIC (Spiteri, Urgaonkar, Sitaraman, INFOCOM 2016) the way dash.js's BolaRule runs it: each
 * rendition m scores (V·(υ_m + γp) − Q) / S_m over the buffer Q, with υ_m = ln(bitrate) and V, γp set
 * so that the lowest rendition wins at the minimum buffer (10 s) and the highest at the buffer target
 * (max(12 s, 10 s + 2 s per rendition)).
 *
 * dash.js's additions, kept here:
 * - **Startup**: until the buffer holds two chunks, the throughput (harmonic mean of the last 3, × 0.9)
 *   picks the rendition; on leaving startup, a *placeholder* buffer is set so that Q + placeholder is
 *   the least buffer at which BOLA itself would pick that rendition, so BOLA does not fall back to
 *   the lowest rendition just because the real buffer is still small.
 * - **Placeholder**: it grows by the time the player waited between downloads (BOLA's own delays
 *   included), is used up first when BOLA asks to wait, and is dropped when the buffer runs dry.
 * - **Oscillation guard** (BOLA-O): a step up beyond what the last 3 downloads' throughput sustains is
 *   capped at that throughput's rendition, never below the previous one.
 * - **Safe bitrate**: never a rendition whose chunk would take more than half the buffer to fetch.
 * - **Delay**: with Q + placeholder above the rendition's target level, wait the difference (not at
 *   the top rendition).
 *
 * **Abandonment** (BOLA's, from the paper's journal version and dash.js): while a chunk downloads, the
 * bytes still to come are what continuing costs; the sunk ones are gone either way. So the rendition
 * being fetched scores over its *remaining* size at the buffer level now, every lower one over its
 * whole chunk; when a lower one scores higher (and its chunk is smaller than what is left), the
 * download is given up and the chunk fetched at that rendition. As the buffer drains under a download
 * that has slowed, the lower renditions' scores overtake it well before the buffer runs dry.
 */
import {
  type AbandonInput,
  type AbrRule,
  harmonicThroughput,
  lastQuality,
  qualityForThroughput,
  type Rendition,
} from "./types.js";

export const BOLA_MINIMUM_BUFFER_S = 10;
const BOLA_PER_LEVEL_S = 2;
/** dash.js's default `streaming.buffer.stableBufferTime`. */
export const BOLA_STABLE_BUFFER_S = 12;
const BOLA_THROUGHPUT_SAMPLES = 3;
const BOLA_BANDWIDTH_SAFETY = 0.9;
const BOLA_REBUFFER_SAFETY = 0.5;

export type BolaParams = Readonly<{ utilities: readonly number[]; vp: number; gp: number; targetS: number }>;
export type BolaState = Readonly<{ phase: "startup" | "steady"; placeholderS: number; params: BolaParams | undefined }>;

/** V and γp (dash.js: Vp, gp); undefined with a single rendition (always the lowest). */
export function bolaParams(ladder: readonly Rendition[], stableBufferS = BOLA_STABLE_BUFFER_S): BolaParams | undefined {
  if (ladder.length < 2) return undefined;
  const utilities = ladder.map((r) => Math.log(r.bitrateBps));
  const u0 = utilities[0] ?? 0;
  const uTop = utilities.at(-1) ?? 0;
  const targetS = Math.max(stableBufferS, BOLA_MINIMUM_BUFFER_S + BOLA_PER_LEVEL_S * ladder.length);
  const gp = 1 - u0 + (uTop - u0) / (targetS / BOLA_MINIMUM_BUFFER_S - 1);
  const vp = BOLA_MINIMUM_BUFFER_S / (u0 + gp - 1);
  return { utilities, vp, gp, targetS };
}

/** The rendition with the highest score at buffer level q (ties to the higher one, as dash.js). */
export function bolaQuality(p: BolaParams, ladder: readonly Rendition[], q: number): number {
  let best = 0;
  let score = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < ladder.length; i++) {
    const s = (p.vp * ((p.utilities[i] ?? 0) + p.gp) - q) / (ladder[i]?.bitrateBps ?? 1);
    if (s >= score) {
      score = s;
      best = i;
    }
  }
  return best;
}

/** The least buffer at which BOLA prefers rendition q over every lower one. */
export function bolaMinBufferFor(p: BolaParams, ladder: readonly Rendition[], q: number): number {
  const bq = ladder[q]?.bitrateBps ?? 0;
  const uq = p.utilities[q] ?? 0;
  let want = 0;
  for (let i = 0; i < q; i++) {
    const bi = ladder[i]?.bitrateBps ?? 0;
    const ui = p.utilities[i] ?? 0;
    want = Math.max(want, p.vp * (p.gp + (bq * ui - bi * uq) / (bq - bi)));
  }
  return want;
}

/** Before this much of a download has passed there is too little to judge it by. */
const ABANDON_AFTER_S = 0.5;

/**
 * BOLA's abandonment: the lower rendition to fetch the chunk at instead, if one now scores higher than
 * finishing this one (scores per second of media: bits ÷ chunk seconds, as bitrates are in decide).
 * Nothing while the buffer is above this rendition's level (its score is not positive: there is time).
 */
export function bolaAbandon(input: AbandonInput, state: BolaState): number | undefined {
  const p = state.params;
  if (p === undefined || state.phase === "startup" || input.quality === 0 || input.elapsedS < ABANDON_AFTER_S)
    return undefined;
  const q = input.bufferS + state.placeholderS;
  const gain = (m: number) => p.vp * ((p.utilities[m] ?? 0) + p.gp) - q;
  const remaining = input.bytesTotal - input.bytesLoaded;
  if (gain(input.quality) <= 0 || remaining <= 0) return undefined;
  let best: number | undefined;
  let bestScore = gain(input.quality) / ((remaining * 8) / input.chunkSeconds);
  for (let m = 0; m < input.quality; m++) {
    const size = input.chunkBytes(m);
    if (size === undefined || size >= remaining) continue;
    const score = gain(m) / ((size * 8) / input.chunkSeconds);
    if (score > bestScore) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/**
 * BOLA with dash.js's defaults; `makeBolaRule(stableBufferS)` raises its buffer target (a dash.js
 * setting), `makeBolaRule(12, false)` never abandons a download (for comparison in bench:playback).
 */
export const makeBolaRule = (stableBufferS = BOLA_STABLE_BUFFER_S, abandonment = true): AbrRule<BolaState> => ({
  name: `bola${stableBufferS === BOLA_STABLE_BUFFER_S ? "" : `-${stableBufferS}s`}${abandonment ? "" : "-no-abandon"}`,
  initial: (ladder) => ({ phase: "startup", placeholderS: 0, params: bolaParams(ladder, stableBufferS) }),
  decide(input, state) {
    const p = state.params;
    if (p === undefined) return [{ quality: 0, delayS: 0 }, state];
    const { ladder, bufferS } = input;
    const tput = harmonicThroughput(input.history, BOLA_THROUGHPUT_SAMPLES);
    let placeholder = input.rebuffered || bufferS <= 0.1 ? 0 : state.placeholderS;
    placeholder = Math.max(0, placeholder + input.idleS);

    if (state.phase === "startup") {
      const q = tput === 0 ? 0 : qualityForThroughput(ladder, tput * BOLA_BANDWIDTH_SAFETY);
      if (bufferS < input.chunkSeconds / BOLA_REBUFFER_SAFETY) {
        return [
          { quality: q, delayS: 0 },
          { ...state, placeholderS: placeholder },
        ];
      }
      const want = bolaMinBufferFor(p, ladder, q);
      const steady: BolaState = { ...state, phase: "steady", placeholderS: Math.max(0, want - bufferS) };
      return [{ quality: q, delayS: 0 }, steady];
    }

    const effective = bufferS + placeholder;
    let q = bolaQuality(p, ladder, effective);
    const last = lastQuality(input.history) ?? 0;
    if (q > last) {
      const sustained = qualityForThroughput(ladder, tput);
      if (q > sustained) q = Math.max(sustained, last);
    }
    if (tput > 0) {
      const safe = (BOLA_REBUFFER_SAFETY * tput * bufferS) / input.chunkSeconds;
      while (q > 0 && (ladder[q]?.bitrateBps ?? 0) > safe) q--;
    }
    let delay = effective - p.vp * ((p.utilities[q] ?? 0) + p.gp);
    if (delay > 0) {
      const fromPlaceholder = Math.min(delay, placeholder);
      placeholder -= fromPlaceholder;
      delay -= fromPlaceholder;
    }
    const delayS = delay > 0 && q < ladder.length - 1 ? delay : 0;
    return [
      { quality: q, delayS },
      { ...state, placeholderS: placeholder },
    ];
  },
  ...(abandonment ? { abandon: bolaAbandon } : {}),
});

export const bolaRule = makeBolaRule();
