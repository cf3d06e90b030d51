import { fileTraffic } from "./stored.js";
import type { CatalogFile, Server } from "./types.js";

/**
 * Which servers hold which files: a compressed sparse row over the ranked catalog. A file with
 * several holders (a replicated hot file) has its requests split equally among them.
 */
export class Assignment {
  readonly servers: readonly string[];
  readonly catalog: readonly CatalogFile[];
  /** Files 0 … stored − 1 were meant to be stored; past that the upper tier serves them. */
  readonly stored: number;
  /** The head/tail cutoff the assignment was made with; 0 when it has none (single-ring schemes). */
  readonly cutoff: number;
  /** Per server: bytes held and traffic carried (Σ demand × bytes ÷ holders). */
  readonly bytes: Float64Array;
  readonly traffic: Float64Array;
  /** Files meant to be stored that no server holds. */
  readonly holeFiles: number;
  readonly holeBytes: number;
  readonly #offsets: Int32Array;
  readonly #holders: Int32Array;
  #index: Map<string, number> | undefined;

  /** `offsets` has catalog.length + 1 entries; holders of file i are holders[offsets[i] … offsets[i+1]). */
  constructor(
    a: Readonly<{
      servers: readonly string[];
      catalog: readonly CatalogFile[];
      stored: number;
      cutoff: number;
      offsets: Int32Array;
      holders: Int32Array;
    }>,
  ) {
    this.servers = a.servers;
    this.catalog = a.catalog;
    this.stored = a.stored;
    this.cutoff = a.cutoff;
    this.#offsets = a.offsets;
    this.#holders = a.holders;
    const m = a.servers.length;
    this.bytes = new Float64Array(m);
    this.traffic = new Float64Array(m);
    let holeFiles = 0;
    let holeBytes = 0;
    for (let i = 0; i < a.catalog.length; i++) {
      const f = a.catalog[i];
      if (f === undefined) break;
      const from = a.offsets[i] ?? 0;
      const to = a.offsets[i + 1] ?? 0;
      if (from === to) {
        if (i < a.stored) {
          holeFiles++;
          holeBytes += f.bytes;
        }
        continue;
      }
      const share = fileTraffic(f) / (to - from);
      for (let k = from; k < to; k++) {
        const j = a.holders[k] ?? 0;
        this.bytes[j] = (this.bytes[j] ?? 0) + f.bytes;
        this.traffic[j] = (this.traffic[j] ?? 0) + share;
      }
    }
    this.holeFiles = holeFiles;
    this.holeBytes = holeBytes;
  }

  /** Server indices holding file `i` of the catalog (a view; do not modify). */
  holdersAt(i: number): Int32Array {
    return this.#holders.subarray(this.#offsets[i] ?? 0, this.#offsets[i + 1] ?? 0);
  }

  /**
   * Names of the servers holding `key`, primary first; empty when the cluster does not store it.
   * The first call builds a key index (O(files)); later calls are one hash-map lookup.
   */
  holdersOf(key: string): string[] {
    const i = this.indexOf(key);
    if (i < 0) return [];
    return Array.from(this.holdersAt(i), (j) => this.servers[j] ?? "");
  }

  /** The rank of `key` in the catalog, -1 if absent (the first call builds the key index). */
  indexOf(key: string): number {
    if (this.#index === undefined) {
      this.#index = new Map();
      for (let i = 0; i < this.catalog.length; i++) this.#index.set(this.catalog[i]?.key ?? "", i);
    }
    return this.#index.get(key) ?? -1;
  }

  /** Keys of the files `server` holds, in rank order: what its edge agent must fill. */
  filesOf(server: string): string[] {
    const j = this.servers.indexOf(server);
    if (j < 0) return [];
    const out: string[] = [];
    for (let i = 0; i < this.catalog.length; i++) {
      if (this.holdersAt(i).includes(j)) out.push(this.catalog[i]?.key ?? "");
    }
    return out;
  }
}

/** Appends holders file by file, then freezes into an Assignment. */
export class AssignmentBuilder {
  #offsets: Int32Array;
  #holders = new Int32Array(1024);
  #n = 0;
  #file = 0;

  constructor(files: number) {
    this.#offsets = new Int32Array(files + 1);
  }

  push(server: number): void {
    if (this.#n === this.#holders.length) {
      const grown = new Int32Array(this.#holders.length * 2);
      grown.set(this.#holders);
      this.#holders = grown;
    }
    this.#holders[this.#n++] = server;
  }

  /** Closes the current file's holder list. */
  next(): void {
    this.#offsets[++this.#file] = this.#n;
  }

  build(
    servers: readonly Server[] | readonly string[],
    catalog: readonly CatalogFile[],
    stored: number,
    cutoff: number,
  ) {
    // Files never visited (past the stored set) keep an empty holder list.
    for (let i = this.#file + 1; i < this.#offsets.length; i++) this.#offsets[i] = this.#n;
    return new Assignment({
      servers: servers.map((s) => (typeof s === "string" ? s : s.name)),
      catalog,
      stored,
      cutoff,
      offsets: this.#offsets,
      holders: this.#holders.subarray(0, this.#n),
    });
  }
}

export type Balance = Readonly<{
  /** max over servers of (traffic share ÷ throughput share). */
  peakToMean: number;
  maxStorageUse: number;
  /** Bytes beyond each server's storage, summed. */
  overflowBytes: number;
  holeBytes: number;
}>;

/** Balance figures of an assignment; `servers` must be in the assignment's server order. */
export function balance(a: Assignment, servers: readonly Server[]): Balance {
  let traffic = 0;
  let throughput = 0;
  for (let j = 0; j < servers.length; j++) {
    traffic += a.traffic[j] ?? 0;
    throughput += servers[j]?.throughputBitsPerSec ?? 0;
  }
  let peakToMean = 0;
  let maxStorageUse = 0;
  let overflowBytes = 0;
  servers.forEach((s, j) => {
    const b = a.bytes[j] ?? 0;
    if (traffic > 0)
      peakToMean = Math.max(peakToMean, (a.traffic[j] ?? 0) / traffic / (s.throughputBitsPerSec / throughput));
    maxStorageUse = Math.max(maxStorageUse, b / s.storageBytes);
    overflowBytes += Math.max(0, b - s.storageBytes);
  });
  return { peakToMean, maxStorageUse, overflowBytes, holeBytes: a.holeBytes };
}
