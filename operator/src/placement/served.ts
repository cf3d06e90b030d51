import type { Assignment } from "./assignment.js";
import { fileTraffic, storedSet } from "./stored.js";
import type { CatalogFile, Server } from "./types.js";

/**
 * How an assignment serves another day's demand: a Placement computed tonight from today's ranking
 * serves tomorrow's plays. Each file of `demand` is matched by key; its traffic splits evenly over the
 * holders the assignment gave it (as the playback API spreads it), or misses the cluster (the upper
 * tier serves it) when the assignment holds no copy.
 */
export type Served = Readonly<{
  /** max over servers of (share of the served traffic ÷ throughput share). */
  peakToMean: number;
  /** Share of the demand's traffic on files the assignment does not hold. */
  missShare: number;
  /**
   * Share that would miss had the cluster stored the demand's own stored set (its ranked prefix that
   * fits, stored.ts): the miss the day's popularity implies, which no placement made in advance beats.
   */
  impliedMissShare: number;
}>;

/** `servers` must be in the assignment's server order (canonicalServers). */
export function served(a: Assignment, servers: readonly Server[], demand: readonly CatalogFile[]): Served {
  const traffic = new Float64Array(servers.length);
  let total = 0;
  let missed = 0;
  for (const f of demand) {
    const t = fileTraffic(f);
    total += t;
    const i = a.indexOf(f.key);
    const holders = i < 0 ? undefined : a.holdersAt(i);
    if (holders === undefined || holders.length === 0) {
      missed += t;
      continue;
    }
    for (const j of holders) traffic[j] = (traffic[j] ?? 0) + t / holders.length;
  }
  const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  const hit = total - missed;
  let peakToMean = 0;
  servers.forEach((s, j) => {
    if (hit > 0) peakToMean = Math.max(peakToMean, (traffic[j] ?? 0) / hit / (s.throughputBitsPerSec / throughput));
  });
  return {
    peakToMean,
    missShare: total > 0 ? missed / total : 0,
    impliedMissShare: total > 0 ? 1 - storedSet(demand, servers).traffic / total : 0,
  };
}
