import { serverSeed, tokenPosition } from "./hash.js";

/** Positions are integers in [0, 2^52); the index splits them into 2^16 buckets. */
const BUCKET_BITS = 16;
const BUCKETS = 2 ** BUCKET_BITS;
const BUCKET_WIDTH = 2 ** (52 - BUCKET_BITS);

/**
 * A weighted token ring. Server j owns tokens hash(j, 0) … hash(j, tokens[j] − 1), so changing one
 * server's token count only adds or removes that server's tokens: keys move only to or from it.
 * A key belongs to the first token at or after its position, wrapping around.
 */
export class Ring {
  /** Token positions, ascending. */
  readonly #positions: Float64Array;
  /** Server index of each token. */
  readonly #owners: Uint32Array;
  /**
   * #first[b] = the first slot whose position is in bucket b or later (bucket = top BUCKET_BITS bits
   * of the position): a lookup scans at most the tokens of one bucket instead of a binary search.
   */
  readonly #first: Uint32Array;

  private constructor(positions: Float64Array, owners: Uint32Array) {
    this.#positions = positions;
    this.#owners = owners;
    const first = new Uint32Array(BUCKETS + 1);
    let k = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      const from = b * BUCKET_WIDTH;
      while (k < positions.length && (positions[k] ?? 0) < from) k++;
      first[b] = k;
    }
    this.#first = first;
  }

  /**
   * Builds the ring for servers `names` (any order; ties between equal positions go to the lower
   * index, so callers pass names in a canonical order) with `tokens[j]` tokens each.
   */
  static build(names: readonly string[], tokens: ArrayLike<number>): Ring {
    let total = 0;
    for (let j = 0; j < names.length; j++) total += tokens[j] ?? 0;
    const pos = new Float64Array(total);
    const own = new Uint32Array(total);
    let t = 0;
    for (let j = 0; j < names.length; j++) {
      const seed = serverSeed(names[j] ?? "");
      const n = tokens[j] ?? 0;
      for (let i = 0; i < n; i++, t++) {
        pos[t] = tokenPosition(seed, i);
        own[t] = j;
      }
    }
    // Counting sort on the top bits of the position (the index's buckets), then insertion sort inside
    // each bucket (~1–2 tokens): O(tokens). Both passes are stable, so equal positions stay in fill
    // order, (server, token) ascending, which breaks ties deterministically.
    const first = new Uint32Array(BUCKETS + 1);
    for (let k = 0; k < total; k++) {
      const b = Math.floor((pos[k] ?? 0) / BUCKET_WIDTH) + 1;
      first[b] = (first[b] ?? 0) + 1;
    }
    for (let b = 0; b < BUCKETS; b++) first[b + 1] = (first[b + 1] ?? 0) + (first[b] ?? 0);
    const next = first.slice(0, BUCKETS);
    const positions = new Float64Array(total);
    const owners = new Uint32Array(total);
    for (let k = 0; k < total; k++) {
      const x = pos[k] ?? 0;
      const b = Math.floor(x / BUCKET_WIDTH);
      const at = next[b] ?? 0;
      next[b] = at + 1;
      positions[at] = x;
      owners[at] = own[k] ?? 0;
    }
    for (let b = 0; b < BUCKETS; b++) {
      const from = first[b] ?? 0;
      const to = first[b + 1] ?? 0;
      for (let k = from + 1; k < to; k++) {
        const x = positions[k] ?? 0;
        const o = owners[k] ?? 0;
        let q = k - 1;
        while (q >= from && (positions[q] ?? 0) > x) {
          positions[q + 1] = positions[q] ?? 0;
          owners[q + 1] = owners[q] ?? 0;
          q--;
        }
        positions[q + 1] = x;
        owners[q + 1] = o;
      }
    }
    return new Ring(positions, owners);
  }

  get size(): number {
    return this.#positions.length;
  }

  /** The slot (token index) owning `position`; -1 on an empty ring. O(1) expected: one bucket's tokens. */
  slot(position: number): number {
    const p = this.#positions;
    const n = p.length;
    if (n === 0) return -1;
    const b = Math.floor(position / BUCKET_WIDTH);
    let lo = this.#first[b] ?? n;
    let hi = this.#first[b + 1] ?? n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((p[mid] ?? 0) < position) lo = mid + 1;
      else hi = mid;
    }
    return lo === n ? 0 : lo;
  }

  /** The slot after `slot`, clockwise. */
  next(slot: number): number {
    return slot + 1 === this.#positions.length ? 0 : slot + 1;
  }

  /** The server index owning `slot`. */
  owner(slot: number): number {
    return this.#owners[slot] ?? -1;
  }

  /** The server index owning `position`; -1 on an empty ring. */
  lookup(position: number): number {
    const s = this.slot(position);
    return s < 0 ? -1 : this.owner(s);
  }
}
