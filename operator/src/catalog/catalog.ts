/**
 * The placement catalog of a region: what HCA ranks and places, derived from the Title objects and the
 * region's Popularity snapshot. The operator, every edge agent and the playback API call this with the
 * same objects and so place the same files in the same order: it is part of the ring's contract.
 *
 * - Only files on a title's convex-hull ladder are placed: playback never offers the others.
 * - A title's plays split evenly over its ladder's video rungs, and separately over its audio and its
 *   text files (each play fetches one of each): a file's demand is its share of the title's plays.
 * - A title's plays are its forecast for the next day where the snapshot has one, else its last day's.
 * - Titles of other regions are left out; titles the snapshot does not mention have demand 0 and go
 *   to the end (they are still stored: the cluster holds the whole regional catalog when it fits).
 * - Of two Titles of the region naming the same file path, the later-created one is left out
 *   (titles.ts regionTitles): on disk one would overwrite the other.
 * - Ties break by key, so the ranking is total and the same everywhere.
 */
import type { Popularity, Title } from "../api/index.js";
import { buildLadder } from "../ladder/index.js";
import { type CatalogFile, catalogFingerprint } from "../placement/index.js";
import { regionTitles } from "./titles.js";

export type RegionCatalog = Readonly<{
  /** Ranked by demand, non-increasing. */
  files: readonly CatalogFile[];
  /** "<popularity generation>.<fingerprint>": names this exact snapshot in a Placement. */
  generation: string;
}>;

/** The region's snapshot among Popularity objects: the one named after the region, else the newest generation. */
export function regionPopularity(pops: readonly Popularity[], region: string): Popularity | undefined {
  const mine = pops.filter((p) => p.spec.region === region);
  return (
    mine.find((p) => p.metadata.name === region) ??
    mine.sort((a, b) => a.spec.catalogGeneration.localeCompare(b.spec.catalogGeneration)).at(-1)
  );
}

/** The key of a file in the catalog and on the ring: "<title id>/<relative path>". */
// Array#join makes a flat string (a template literal makes a rope), which hashes several times faster.
export const fileKey = (titleId: string, path: string): string => [titleId, "/", path].join("");

export function regionCatalog(
  region: string,
  titles: readonly Title[],
  popularity: Popularity | undefined,
): RegionCatalog {
  const plays = popularity?.spec.demand ?? {};
  const forecast = popularity?.spec.forecast ?? {};
  const files: CatalogFile[] = [];
  for (const t of regionTitles(region, titles)) {
    // A Placement serves the next day: its forecast where the snapshot has one.
    const titlePlays = forecast[t.spec.id] ?? plays[t.spec.id] ?? 0;
    // From the spec, not status: every caller must agree even while a status update is in flight.
    const ladder = buildLadder(t.spec.files);
    const bytesOf = new Map(t.spec.files.map((f) => [f.path, f.bytes]));
    for (const kind of ["video", "audio", "text"] as const) {
      const rungs = ladder.filter((e) => e.kind === kind).flatMap((e) => e.rungs);
      for (const r of rungs) {
        files.push({
          key: fileKey(t.spec.id, r.path),
          bytes: bytesOf.get(r.path) ?? 0,
          demand: titlePlays / rungs.length,
        });
      }
    }
  }
  files.sort((a, b) => b.demand - a.demand || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const base = (popularity?.spec.catalogGeneration ?? "none").slice(0, 38);
  return { files, generation: `${base}.${catalogFingerprint(files)}` };
}

/** Where region catalogs are built from: the valid Titles and Popularities of a namespace. */
export type CatalogSource = Readonly<{
  titles(namespace: string): readonly Title[];
  popularities(namespace: string): readonly Popularity[];
  /** Moves whenever a Title's or a Popularity's spec does (the caches' resource versions). */
  revision(): string;
}>;

/**
 * The catalog of each (namespace, region), built once per revision of the sources: a catalog only
 * changes with a Title or a Popularity, while its readers (an OCACluster reconcile on every heartbeat,
 * steering on every Placement) ask for it far more often.
 */
export class RegionCatalogs {
  readonly #source: CatalogSource;
  readonly #memo = new Map<string, { revision: string; catalog: RegionCatalog }>();

  constructor(source: CatalogSource) {
    this.#source = source;
  }

  get(namespace: string, region: string): RegionCatalog {
    const revision = this.#source.revision();
    const key = `${namespace}/${region}`;
    const memo = this.#memo.get(key);
    if (memo?.revision === revision) return memo.catalog;
    const pop = regionPopularity(this.#source.popularities(namespace), region);
    const catalog = regionCatalog(region, this.#source.titles(namespace), pop);
    this.#memo.set(key, { revision, catalog });
    return catalog;
  }
}
