import { serverSeed, tokenPosition } from "./hash.js";

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

  private constructor(positions: Float64Array, owners: Uint32Array) {
    this.#positions = positions;
    this.#owners = owners;
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
    const order = new Uint32Array(total);
    for (let k = 0; k < total; k++) order[k] = k;
    // The fill order is (server, token) ascending, so the index breaks position ties deterministically.
    order.sort((x, y) => (pos[x] ?? 0) - (pos[y] ?? 0) || x - y);
    const positions = new Float64Array(total);
    const owners = new Uint32Array(total);
    for (let k = 0; k < total; k++) {
      const o = order[k] ?? 0;
      positions[k] = pos[o] ?? 0;
      owners[k] = own[o] ?? 0;
    }
    return new Ring(positions, owners);
  }

  get size(): number {
    return this.#positions.length;
  }

  /** The slot (token index) owning `position`; -1 on an empty ring. Binary search, O(log tokens). */
  slot(position: number): number {
    const p = this.#positions;
    const n = p.length;
    if (n === 0) return -1;
    let lo = 0;
    let hi = n;
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
