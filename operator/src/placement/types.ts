/** A cache server as the placement engine sees it. Capacities are positive and finite. */
export type Server = Readonly<{ name: string; storageBytes: number; throughputBitsPerSec: number }>;

/**
 * One file of the catalog. `demand` is a relative request rate (plays per unit time); a play streams the
 * whole file, so the file's traffic is `demand × bytes` and its traffic per stored byte is `demand`.
 * A catalog is an array ranked by popularity: `demand` never increases along it.
 */
export type CatalogFile = Readonly<{ key: string; bytes: number; demand: number }>;

/** Per-server ring weights: the number of tokens on the head ring and on the tail ring. */
export type ServerTokens = Readonly<{ name: string; headTokens: number; tailTokens: number }>;

/**
 * A placement, exactly as the Placement CRD stores it. With the same catalog snapshot and the servers'
 * capacities, `assign` turns it into the same file → server assignment on every machine.
 */
export type Plan = Readonly<{
  cluster: string;
  /** Identifies the exact catalog snapshot the plan was computed for (see `catalogFingerprint`). */
  catalogGeneration: string;
  /** D*: the first `cutoff` files of the ranked catalog form the head. */
  cutoff: number;
  servers: readonly ServerTokens[];
}>;

/** Thrown for input that breaks a rule; the message names the field and the rule. */
export class PlacementInputError extends Error {
  override name = "PlacementInputError";
}

/** Thrown when no cutoff satisfies the constraints the caller fixed (an explicit cutoff, for instance). */
export class InfeasiblePlacementError extends Error {
  override name = "InfeasiblePlacementError";
}
