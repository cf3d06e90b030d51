/**
 * Which Titles a region's catalog takes. A file lives on an edge disk at its path, so two Titles of a
 * region that name the same path would overwrite each other's bytes: of two such Titles, the one
 * created later (creationTimestamp, then name: api byAge) is left out of that region's catalog, and
 * its Title controller reports Valid=False naming the path and the other Title.
 *
 * The rule is pairwise: an older Title leaves a newer one out whether or not it is itself left out
 * (by a still older one), so whether a Title is in depends only on the Titles that share a path with
 * it, never on a chain of others. The operator (regionCatalog), every edge agent (the same function)
 * and the Title controller (pathConflicts) apply it to the same objects and agree.
 */
import { byAge, type Title } from "../api/index.js";

/** Why a Title is left out of one of its regions: its file `path` (spec.files[index]) is also `other`'s. */
export type PathConflict = Readonly<{ region: string; path: string; index: number; other: string }>;

/**
 * The conflicts of `title` with `others` (any Titles; those that are neither older, nor in one of its
 * regions, nor naming one of its paths are ignored): at most one per region, the first path in file order.
 */
export function pathConflicts(title: Title, others: readonly Title[]): PathConflict[] {
  const older = others.filter((o) => o.metadata.name !== title.metadata.name && byAge(o, title) < 0).sort(byAge);
  const out: PathConflict[] = [];
  for (const region of title.spec.regions) {
    const claimed = new Map<string, string>();
    for (const o of older) {
      if (!o.spec.regions.includes(region)) continue;
      for (const f of o.spec.files) if (!claimed.has(f.path)) claimed.set(f.path, o.metadata.name);
    }
    const index = title.spec.files.findIndex((f) => claimed.has(f.path));
    const file = title.spec.files[index];
    if (file) out.push({ region, path: file.path, index, other: claimed.get(file.path) ?? "" });
  }
  return out;
}

/** The Titles of `region` its catalog takes: each left out that shares a path with an older one of the region. */
export function regionTitles(region: string, titles: readonly Title[]): Title[] {
  const mine = titles.filter((t) => t.spec.regions.includes(region)).sort(byAge);
  const first = new Map<string, Title>();
  for (const t of mine) for (const f of t.spec.files) if (!first.has(f.path)) first.set(f.path, t);
  return mine.filter((t) => t.spec.files.every((f) => first.get(f.path) === t));
}

/** One line for a Title's condition: which path, whose it also is, and what follows. */
export function describeConflicts(cs: readonly PathConflict[]): string {
  return cs
    .map(
      (c) =>
        `spec.files[${c.index}].path: "${c.path}" is also a file of Title ${c.other}, created earlier; left out of region ${c.region}'s catalog`,
    )
    .join("; ");
}

/**
 * Which Titles name which paths, kept up to date one change at a time, so that a change to one Title
 * wakes exactly the Titles whose conflicts it may change (those sharing one of its old or new paths)
 * without scanning the namespace: a region of 10,000 Titles is listed at start-up, one Title at a time.
 * Keys are "<namespace>/<name>"; paths are per namespace.
 */
export class TitlePaths {
  readonly #paths = new Map<string, readonly string[]>();
  readonly #claimants = new Map<string, Set<string>>();

  /** Records the paths `key` names now (none when it is gone or invalid); returns the other keys that share one it named before or names now. */
  update(key: string, paths: readonly string[]): string[] {
    const ns = namespaceOf(key);
    const before = this.#paths.get(key) ?? [];
    for (const p of before) this.#claimants.get(`${ns}\0${p}`)?.delete(key);
    if (paths.length > 0) this.#paths.set(key, paths);
    else this.#paths.delete(key);
    for (const p of paths) {
      const slot = `${ns}\0${p}`;
      const set = this.#claimants.get(slot) ?? new Set<string>();
      set.add(key);
      this.#claimants.set(slot, set);
    }
    for (const p of before) if (this.#claimants.get(`${ns}\0${p}`)?.size === 0) this.#claimants.delete(`${ns}\0${p}`);
    return this.#others(key, [...before, ...paths]);
  }

  /** The other keys naming one of the paths `key` names now. */
  sharing(key: string): string[] {
    return this.#others(key, this.#paths.get(key) ?? []);
  }

  #others(key: string, paths: readonly string[]): string[] {
    const ns = namespaceOf(key);
    const out = new Set<string>();
    for (const p of paths) for (const k of this.#claimants.get(`${ns}\0${p}`) ?? []) if (k !== key) out.add(k);
    return [...out];
  }
}

const namespaceOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf("/")));
