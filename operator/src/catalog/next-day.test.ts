/**
 * Placement judged where it serves: the plan made tonight from the forecast (forecast.ts) against
 * tomorrow's plays, under the synthetic catalog's drift model, on small catalogs at the default
 * catalog-to-storage ratio (bench:placement measures the big ones).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maxForecastTitles } from "../api/popularity.js";
import { assign, canonicalServers, HCA, planHca, type Server, served } from "../placement/index.js";
import { defaultMix } from "../placement/testing/fixtures.js";
import {
  DEFAULT_DRIFT,
  driftCatalog,
  forecastFiles,
  generateCatalog,
  type SyntheticCatalog,
  titlePlays,
} from "../placement/testing/synthetic-catalog.js";
import { forecastDemand } from "./forecast.js";

/**
 * The next day's peak/mean on 20 servers and 40k files stays under this. The goal (1.10 on the worst
 * day) is met by bench:placement from 200k files on 100 servers; on a cluster this small a few files
 * carry a server's traffic and one release landing at the top of the ranking moves them (measured up
 * to 1.10 here; 1.34 with 20k files at α 1.2). The bound catches what made it 1.7: hot files left
 * whole (replicas.ts, maxPiece).
 */
const SMALL_CLUSTER_BOUND = 1.2;
/** The default bench: 1M files on the default mix of 100 servers. */
const DEFAULT_FILES_PER_SERVER = 10_000;

/** `files` on a mix of `servers` with the default catalog-to-storage ratio. */
function cluster(files: number, servers: number): Server[] {
  const scale = files / (DEFAULT_FILES_PER_SERVER * servers);
  return defaultMix(servers / 100).map((s) => ({ ...s, storageBytes: s.storageBytes * scale }));
}

/** Tonight's plan from three days of history, judged on tomorrow's plays. */
function nextDay(files: number, servers: Server[], alpha: number, seed: number) {
  const drift = { ...DEFAULT_DRIFT, seed: seed + 1 };
  const history: Record<string, number>[] = [];
  let today: SyntheticCatalog = generateCatalog({ files, alpha, seed });
  for (let d = 1; d <= 3; d++) {
    history.push(titlePlays(today));
    today = driftCatalog(today, d, drift);
  }
  history.push(titlePlays(today));
  const catalog = forecastFiles(today, forecastDemand(history, { limit: maxForecastTitles }));
  const { plan } = planHca({ cluster: "c", catalogGeneration: "g", servers, catalog });
  const a = assign(plan, catalog, servers);
  const tomorrow = driftCatalog(today, 4, drift);
  const known = new Set(today.titles.map((t) => t.id));
  let releases = 0;
  let total = 0;
  for (const f of tomorrow.files) {
    total += f.demand * f.bytes;
    if (!known.has(f.key.slice(0, f.key.indexOf("/")))) releases += f.demand * f.bytes;
  }
  return {
    inSample: served(a, canonicalServers(servers), catalog),
    next: served(a, canonicalServers(servers), tomorrow.files),
    releaseShare: releases / total,
  };
}

describe("next-day balance under the drift model", () => {
  // Seeded, so that a failure replays.
  const runs = { numRuns: 12, seed: 7 };
  const alpha = fc.double({ min: 0.8, max: 1.2, noNaN: true });
  const seed = fc.integer({ min: 0, max: 1000 });

  // Each property plans a few dozen catalogs: seconds on a quiet machine, a minute or more when the
  // suite shares two loaded cores. Vitest fails a synchronous test that overran its timeout even when
  // every assertion held: the likeliest cause of the failures seen here under load, since no rerun gave
  // another figure (960 runs of this property in two loaded processes, and the unit suite under load).
  const heavy = { timeout: 300_000 };

  it("a smaller catalog at the default catalog-to-storage ratio is balanced in sample", heavy, () => {
    fc.assert(
      fc.property(fc.constantFrom(20_000, 40_000), seed, alpha, (files, s, a) => {
        const r = nextDay(files, cluster(files, 20), a, s);
        expect(
          r.inSample.peakToMean,
          `files ${files}, seed ${s}, α ${a}, next day ${r.next.peakToMean}`,
        ).toBeLessThanOrEqual(1 + HCA.loadBound + 1e-9);
      }),
      runs,
    );
  });

  it("stays within the small-cluster bound the next day", heavy, () => {
    fc.assert(
      fc.property(seed, alpha, (s, a) => {
        expect(nextDay(40_000, cluster(40_000, 20), a, s).next.peakToMean).toBeLessThanOrEqual(SMALL_CLUSTER_BOUND);
      }),
      runs,
    );
  });

  it("misses only the day's releases, plus what the day's own stored set implies", heavy, () => {
    fc.assert(
      fc.property(seed, alpha, (s, a) => {
        const r = nextDay(20_000, cluster(20_000, 20), a, s);
        expect(r.next.missShare).toBeLessThanOrEqual(r.releaseShare + r.next.impliedMissShare + 1e-9);
      }),
      { ...runs, numRuns: 8 },
    );
  });
});
