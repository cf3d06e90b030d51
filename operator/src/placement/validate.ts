import { z } from "zod";
import { keyPosition } from "./hash.js";
import { type CatalogFile, PlacementInputError, type Plan, type Server } from "./types.js";

const positive = z.number().finite().positive();
const ServerSchema = z.object({
  name: z.string().min(1),
  storageBytes: positive,
  throughputBitsPerSec: positive,
});
const PlanSchema = z.object({
  cluster: z.string().min(1),
  catalogGeneration: z.string(),
  cutoff: z.number().int().nonnegative(),
  servers: z
    .array(
      z.object({
        name: z.string().min(1),
        headTokens: z.number().int().nonnegative(),
        tailTokens: z.number().int().nonnegative(),
      }),
    )
    .min(1),
});

function fail(what: string, err: z.ZodError): never {
  throw new PlacementInputError(`invalid ${what}: ${z.prettifyError(err)}`, { cause: err });
}

/** Validates servers and returns them sorted by name: the canonical order every index refers to. */
export function canonicalServers(servers: readonly Server[]): Server[] {
  const r = z.array(ServerSchema).min(1, "at least one server is required").safeParse(servers);
  if (!r.success) fail("servers", r.error);
  const sorted = [...r.data].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let j = 1; j < sorted.length; j++) {
    if (sorted[j]?.name === sorted[j - 1]?.name) {
      throw new PlacementInputError(`servers: name "${sorted[j]?.name}" appears twice; names must be unique`);
    }
  }
  return sorted;
}

export function validPlan(plan: Plan): Plan {
  const r = PlanSchema.safeParse(plan);
  if (!r.success) fail("plan", r.error);
  return r.data;
}

/**
 * Catalog snapshots already checked, so that `planHca` and `assign` on the same array check it once.
 * Snapshots are immutable: a caller that edited an array in place would have to pass a new one.
 */
const checked = new WeakSet<readonly CatalogFile[]>();

/**
 * Checks the catalog with a plain loop: zod over a million objects costs more than the placement.
 * Rules: non-empty keys, bytes a positive safe integer, demand finite ≥ 0 and non-increasing.
 * Key uniqueness is checked from the key hashes (`keyPositions`).
 */
export function validateCatalog(catalog: readonly CatalogFile[]): void {
  if (checked.has(catalog)) return;
  let prev = Number.POSITIVE_INFINITY;
  for (let i = 0; i < catalog.length; i++) {
    const f = catalog[i];
    if (f === undefined) throw new PlacementInputError(`catalog[${i}]: missing file`);
    if (typeof f.key !== "string" || f.key.length === 0) {
      throw new PlacementInputError(`catalog[${i}].key: must be a non-empty string`);
    }
    if (!Number.isSafeInteger(f.bytes) || f.bytes <= 0) {
      throw new PlacementInputError(`catalog[${i}].bytes: must be a positive integer, got ${f.bytes}`);
    }
    if (!Number.isFinite(f.demand) || f.demand < 0) {
      throw new PlacementInputError(`catalog[${i}].demand: must be a finite number ≥ 0, got ${f.demand}`);
    }
    if (f.demand > prev) {
      throw new PlacementInputError(
        `catalog[${i}].demand: the catalog must be ranked by popularity (demand non-increasing), but ${f.demand} follows ${prev}`,
      );
    }
    prev = f.demand;
  }
  checked.add(catalog);
}

const positionsOf = new WeakMap<readonly CatalogFile[], Float64Array>();

/**
 * Every file's key position, after checking that no two files share a key; hashed and checked once
 * per catalog snapshot, so `planHca` and `assign` on the same array (the operator calls both) share
 * one pass. Snapshots are immutable: a caller that edited an array in place would pass a new one.
 */
export function keyPositions(catalog: readonly CatalogFile[]): Float64Array {
  let positions = positionsOf.get(catalog);
  if (positions === undefined) {
    positions = new Float64Array(catalog.length);
    for (let i = 0; i < catalog.length; i++) positions[i] = keyPosition(catalog[i]?.key ?? "");
    uniqueKeys(catalog, positions);
    positionsOf.set(catalog, positions);
  }
  return positions;
}

/**
 * Throws if two files share a key. The key positions go into an open-addressing table (they are
 * uniform hashes, so their low bits index it directly); only a position collision pays for string
 * comparisons.
 */
function uniqueKeys(catalog: readonly CatalogFile[], positions: Float64Array): void {
  const size = 2 ** Math.ceil(Math.log2(2 * positions.length + 2));
  const table = new Float64Array(size);
  const used = new Uint8Array(size);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] ?? 0;
    let slot = p % size;
    while (used[slot] === 1 && table[slot] !== p) slot = slot + 1 === size ? 0 : slot + 1;
    if (used[slot] === 1) duplicateKey(catalog, positions, p);
    used[slot] = 1;
    table[slot] = p;
  }
}

/** Finds the files at position `p` and throws if two share a key (else it was a hash collision). */
function duplicateKey(catalog: readonly CatalogFile[], positions: Float64Array, p: number): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < catalog.length; i++) {
    if (positions[i] !== p) continue;
    const key = catalog[i]?.key ?? "";
    const first = seen.get(key);
    if (first !== undefined) {
      throw new PlacementInputError(`catalog[${i}].key: "${key}" repeats catalog[${first}].key; keys must be unique`);
    }
    seen.set(key, i);
  }
}
