import { Rng } from "../rng.js";
import { type CatalogFile, PlacementInputError } from "../types.js";

/**
 * A synthetic catalog for benchmarks and tests: Zipf(α) popularity over titles, each title a ladder of
 * files (codecs × rungs) sized bitrate × duration, and daily drift (log-normal noise on each title's
 * interest, new releases entering near the head). Deterministic from the seed.
 */
export type CatalogSpec = Readonly<{
  /** Approximate number of files; titles = ceil(files ÷ ladder size). */
  files: number;
  alpha: number;
  seed: number;
}>;

/**
 * `interest` is what drifts; `popularity` is the Zipf(α) weight of the title's rank by interest, so that
 * every day's catalog has the shape α describes.
 */
export type SyntheticTitle = Readonly<{ id: string; interest: number; popularity: number; durationSec: number }>;

export type SyntheticCatalog = Readonly<{
  alpha: number;
  titles: readonly SyntheticTitle[];
  files: readonly CatalogFile[];
}>;

type Rung = Readonly<{ height: number; kbps: number; share: number }>;

/** A streaming ladder (kbps for AVC) and the share of plays each rung gets. */
const RUNGS: readonly Rung[] = [
  { height: 240, kbps: 235, share: 0.02 },
  { height: 360, kbps: 560, share: 0.05 },
  { height: 480, kbps: 1050, share: 0.1 },
  { height: 720, kbps: 2350, share: 0.2 },
  { height: 1080, kbps: 4300, share: 0.25 },
  { height: 1080, kbps: 5800, share: 0.2 },
  { height: 2160, kbps: 11600, share: 0.1 },
  { height: 2160, kbps: 16000, share: 0.08 },
];

/** Codecs, their bitrate relative to AVC for the same quality, and their share of plays. */
const CODECS = [
  { name: "avc", rate: 1, share: 0.4 },
  { name: "hevc", rate: 0.7, share: 0.3 },
  { name: "av1", rate: 0.6, share: 0.3 },
] as const;

export const LADDER_SIZE = RUNGS.length * CODECS.length;

/** The ladder's files of any title: "<id>/<suffix>", in codec-major order. */
const SUFFIXES = CODECS.flatMap((c) =>
  RUNGS.map((r) => {
    const kbps = Math.round(r.kbps * c.rate);
    return { suffix: `${c.name}_${r.height}p_${kbps}k.mp4`, kbps, codecShare: c.share, rungShare: r.share };
  }),
);

/** Each suffix's rank in string order: keys of one title compare as their suffixes do. */
const SUFFIX_RANK = (() => {
  const sorted = SUFFIXES.map((x) => x.suffix).sort();
  return Int32Array.from(SUFFIXES, (x) => sorted.indexOf(x.suffix));
})();

function checkSpec(spec: CatalogSpec): void {
  if (!(Number.isSafeInteger(spec.files) && spec.files >= 1)) {
    throw new PlacementInputError(`files: must be an integer ≥ 1, got ${spec.files}`);
  }
  if (!(Number.isFinite(spec.alpha) && spec.alpha >= 0 && spec.alpha <= 5)) {
    throw new PlacementInputError(`alpha: must be a number in [0, 5], got ${spec.alpha}`);
  }
  if (!Number.isSafeInteger(spec.seed)) throw new PlacementInputError(`seed: must be an integer, got ${spec.seed}`);
}

/** A title's running time: episodes around 45 min, films around 2 h. */
function duration(rng: Rng): number {
  const film = rng.next() < 0.3;
  return Math.round((film ? 6600 : 2700) * Math.exp(0.25 * rng.normal()));
}

/**
 * Every title's ladder, ranked by demand with ties broken by key. The ranking sorts indices, and the
 * file objects are allocated afterwards in rank order with flat keys (Array#join, not a template
 * literal's rope): a pass over the ranked catalog, like hashing every key, then reads memory
 * sequentially, several times faster than over objects scattered by a sort.
 */
function ladder(titles: readonly SyntheticTitle[]): CatalogFile[] {
  const n = titles.length * LADDER_SIZE;
  const demand = new Float64Array(n);
  titles.forEach((t, k) => {
    SUFFIXES.forEach((x, s) => {
      demand[k * LADDER_SIZE + s] = t.popularity * x.codecShare * x.rungShare;
    });
  });
  const byId = titles.map((t, k) => ({ id: t.id, k })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const idRank = new Int32Array(titles.length);
  byId.forEach((x, r) => {
    idRank[x.k] = r;
  });
  // A key is "<id>/<suffix>" and no id is a prefix of another, so keys compare as (id, suffix).
  const order = new Uint32Array(n);
  for (let f = 0; f < n; f++) order[f] = f;
  order.sort(
    (a, b) =>
      (demand[b] ?? 0) - (demand[a] ?? 0) ||
      (idRank[(a / LADDER_SIZE) | 0] ?? 0) - (idRank[(b / LADDER_SIZE) | 0] ?? 0) ||
      (SUFFIX_RANK[a % LADDER_SIZE] ?? 0) - (SUFFIX_RANK[b % LADDER_SIZE] ?? 0),
  );
  const files = new Array<CatalogFile>(n);
  for (let r = 0; r < n; r++) {
    const f = order[r] ?? 0;
    const t = titles[(f / LADDER_SIZE) | 0] as SyntheticTitle;
    const x = SUFFIXES[f % LADDER_SIZE] as (typeof SUFFIXES)[number];
    files[r] = {
      key: [t.id, "/", x.suffix].join(""),
      bytes: Math.round((x.kbps * 1000 * t.durationSec) / 8),
      demand: demand[f] ?? 0,
    };
  }
  return files;
}

export function generateCatalog(spec: CatalogSpec): SyntheticCatalog {
  checkSpec(spec);
  const rng = new Rng(spec.seed);
  const n = Math.ceil(spec.files / LADDER_SIZE);
  const titles: SyntheticTitle[] = [];
  for (let r = 1; r <= n; r++) {
    const popularity = r ** -spec.alpha;
    titles.push({ id: `t${String(r).padStart(7, "0")}`, interest: popularity, popularity, durationSec: duration(rng) });
  }
  return { alpha: spec.alpha, titles, files: ladder(titles) };
}

export type DriftSpec = Readonly<{
  /** σ of the daily log-normal noise on each title's popularity. */
  sigma: number;
  /** New titles per day, as a fraction of the catalog's titles. */
  releases: number;
  seed: number;
}>;

export const DEFAULT_DRIFT: DriftSpec = { sigma: 0.1, releases: 0.002, seed: 1 };

/**
 * The next day's catalog: every title's interest times exp(σ·N(0,1)), plus new releases whose interest
 * is that of a title drawn from the top 1% of the current ranking; then popularity is Zipf(α) again
 * by rank of interest. Without that last step the releases would pile onto the head (at α = 0.8 the
 * top 1% of titles went from 33 % to 48 % of plays in a week): a catalog whose shape drifts away from α
 * rather than one whose titles trade places, as viewing does from day to day.
 */
export function driftCatalog(prev: SyntheticCatalog, day: number, spec: DriftSpec = DEFAULT_DRIFT): SyntheticCatalog {
  if (!(Number.isFinite(spec.sigma) && spec.sigma >= 0)) {
    throw new PlacementInputError(`sigma: must be a number ≥ 0, got ${spec.sigma}`);
  }
  if (!(Number.isFinite(spec.releases) && spec.releases >= 0 && spec.releases <= 1)) {
    throw new PlacementInputError(`releases: must be a fraction in [0, 1], got ${spec.releases}`);
  }
  const rng = new Rng(spec.seed * 1_000_003 + day);
  const titles = prev.titles.map((t) => ({ ...t, interest: t.interest * Math.exp(spec.sigma * rng.normal()) }));
  const ranked = titles.map((t) => t.interest).sort((a, b) => b - a);
  const top = Math.max(1, Math.floor(ranked.length / 100));
  const releases = Math.round(prev.titles.length * spec.releases);
  for (let k = 0; k < releases; k++) {
    const interest = ranked[Math.floor(rng.next() * top)] ?? 1;
    titles.push({
      id: `d${String(day).padStart(3, "0")}n${String(k).padStart(5, "0")}`,
      interest,
      popularity: 0,
      durationSec: duration(rng),
    });
  }
  const order = titles
    .map((_, k) => k)
    .sort((a, b) => (titles[b]?.interest ?? 0) - (titles[a]?.interest ?? 0) || a - b);
  order.forEach((k, r) => {
    const t = titles[k] as SyntheticTitle;
    titles[k] = { ...t, popularity: (r + 1) ** -prev.alpha };
  });
  return { alpha: prev.alpha, titles, files: ladder(titles) };
}

/** Each title's plays of the day (its popularity), as a Popularity's `spec.demand` carries them. */
export function titlePlays(c: SyntheticCatalog): Record<string, number> {
  return Object.fromEntries(c.titles.map((t) => [t.id, t.popularity]));
}

/**
 * The catalog the operator places when the day's Popularity carries a forecast: each title's files
 * ranked by its forecast plays, or by its plays where the forecast names it not (catalog.ts), plus
 * `upcoming` titles (ingested, not yet released) at their forecast.
 */
export function forecastFiles(
  c: SyntheticCatalog,
  forecast: Readonly<Record<string, number>>,
  upcoming: readonly SyntheticTitle[] = [],
): CatalogFile[] {
  const titles = [...c.titles, ...upcoming];
  return ladder(titles.map((t) => ({ ...t, popularity: forecast[t.id] ?? t.popularity })));
}
