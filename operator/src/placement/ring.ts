import { serverSeed, tokenPosition } from "./hash.js";
import { bucketBits, gather, positionOrder } from "./order.js";

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
  /** The first slot of each of 2^bits equal slices of the ring (and the size, last): O(1) lookups. */
  readonly #starts: Uint32Array;
  /** Ring positions per directory bucket. */
  readonly #width: number;

  private constructor(positions: Float64Array, owners: Uint32Array) {
    this.#positions = positions;
    this.#owners = owners;
    const bits = bucketBits(positions.length);
    const buckets = 1 << bits;
    this.#starts = new Uint32Array(buckets + 1);
    const width = 2 ** (52 - bits);
    this.#width = width;
    let slot = 0;
    for (let b = 0; b <= buckets; b++) {
      while (slot < positions.length && (positions[slot] ?? 0) < b * width) slot++;
      this.#starts[b] = slot;
    }
  }

  /**
   * Builds the ring for servers `names` (any order; ties between equal positions go to the lower
   * index, so callers pass names in a canonical order) with `tokens[j]` tokens each.
   */
  static build(names: readonly string[], tokens: ArrayLike<number>): Ring {
    const servers = names.length;
    let total = 0;
    for (let j = 0; j < servers; j++) total += tokens[j] ?? 0;
    const pos = new Float64Array(total);
    const own = new Uint32Array(total);
    let t = 0;
    for (let j = 0; j < servers; j++) {
      const n = tokens[j] ?? 0;
      const seed = serverSeed(names[j] ?? "");
      for (let i = 0; i < n; i++, t++) {
        pos[t] = tokenPosition(seed, i);
        own[t] = j;
      }
    }
    // The fill order is (server, token) ascending, so the order breaks position ties deterministically.
    const order = positionOrder(pos);
    return new Ring(gather(pos, order), gather(own, order));
  }

  /** A ring from token positions already in ring order (ascending, ties by server then token). */
  static fromSorted(positions: Float64Array, owners: Uint32Array): Ring {
    return new Ring(positions, owners);
  }

  get size(): number {
    return this.#positions.length;
  }

  /** The slot (token index) owning `position`; -1 on an empty ring. A bucket, then a short search. */
  slot(position: number): number {
    const p = this.#positions;
    const n = p.length;
    if (n === 0) return -1;
    const b = Math.floor(position / this.#width);
    let lo = this.#starts[b] ?? 0;
    let hi = this.#starts[b + 1] ?? n;
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

  /** Position of the token in `slot`. */
  position(slot: number): number {
    return this.#positions[slot] ?? 0;
  }

  /** The server index owning `position`; -1 on an empty ring. */
  lookup(position: number): number {
    const s = this.slot(position);
    return s < 0 ? -1 : this.owner(s);
  }
}
