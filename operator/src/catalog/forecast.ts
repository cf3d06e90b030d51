/**
 * Tomorrow's plays per title, for a Popularity's `spec.forecast`: a Placement computed tonight serves
 * tomorrow's plays, so the operator ranks and places by the forecast where the producer gives one.
 *
 * - Level: today's plays. A title's interest moves like a random walk, and smoothing the level would
 *   only make it lag.
 * - Trend: the mean daily log-change of the titles that held the same rank band the day before
 *   (the first `firstBand` ranks, then bands of doubling width), exponentially smoothed over the days
 *   given. Pooled by band because a
 *   single title's day-to-day change is mostly noise, while the head as a whole moves one way: each
 *   day's releases enter near the top and push every hot title down, so the head loses share to the
 *   tail. Planned on today's plays, the servers holding the tail carried 7 % over their share the next
 *   day (bench:placement, 1M files, α 0.9).
 * Pure: the caller rounds the values to whole plays when writing `spec.forecast`.
 */
export type ForecastOptions = Readonly<{
  /** Forecast at most this many titles, the highest first (the hot set, where the trend is steep). */
  limit: number;
  /** Weight of the newest day's trend in the exponential smoothing; default 0.5. */
  smoothing?: number;
  /**
   * Titles in the first rank band; default 64. The top titles trade places every day, so a band of
   * one title's own change is noise. bench:placement, next-day peak/mean at 200k files (mean/worst
   * of 4 days): α 0.9 1.045/1.060 with bands 1, 2, 4…; 1.032–1.039/1.045–1.047 with 32–128; α 1.2
   * 1.085/1.118 → 1.056–1.069/1.066–1.082.
   */
  firstBand?: number;
}>;

type Plays = Readonly<Record<string, number>>;

/** History is oldest first; the last entry is today's plays. Titles with no plays today get no forecast. */
export function forecastDemand(history: readonly Plays[], options: ForecastOptions): Record<string, number> {
  const today = history.at(-1);
  if (today === undefined) return {};
  const beta = options.smoothing ?? 0.5;
  const band = bands(options.firstBand ?? 64);
  let trend: number[] = [];
  for (let d = 1; d < history.length; d++) {
    const day = bandTrend(history[d - 1] ?? {}, history[d] ?? {}, band);
    trend =
      d === 1 ? day : day.map((x, b) => (Number.isNaN(x) ? (trend[b] ?? 0) : beta * x + (1 - beta) * (trend[b] ?? x)));
  }
  const out: Record<string, number> = {};
  ranked(today)
    .slice(0, options.limit)
    .forEach(([id, plays], r) => {
      const t = trend[band(r)];
      out[id] = plays * Math.exp(t === undefined || Number.isNaN(t) ? 0 : t);
    });
  return out;
}

/** Rank band of a 0-based rank: [0, w) | [w, 3w) | [3w, 7w) | … */
const bands =
  (w: number) =>
  (rank: number): number =>
    Math.floor(Math.log2(rank / w + 1));

/** Titles with plays, most first, ties by id (the ranking is total). */
function ranked(plays: Plays): [string, number][] {
  return Object.entries(plays)
    .filter(([, p]) => p > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Mean log-change from `older` to `newer` of the titles in each rank band of `older`; NaN for an empty band. */
function bandTrend(older: Plays, newer: Plays, band: (rank: number) => number): number[] {
  const sum: number[] = [];
  const count: number[] = [];
  ranked(older).forEach(([id, before], r) => {
    const after = newer[id] ?? 0;
    if (!(after > 0)) return;
    const b = band(r);
    sum[b] = (sum[b] ?? 0) + Math.log(after / before);
    count[b] = (count[b] ?? 0) + 1;
  });
  return Array.from({ length: sum.length }, (_, b) => ((count[b] ?? 0) > 0 ? (sum[b] ?? 0) / (count[b] ?? 1) : NaN));
}
