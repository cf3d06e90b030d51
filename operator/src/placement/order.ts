/** Ring positions are integers in [0, 2^52) (see hash.ts). */
const SPACE = 2 ** 52;

/** Bits of the bucket index for `n` positions: about one position per bucket, 2^8 … 2^20 buckets. */
export function bucketBits(n: number): number {
  return Math.min(20, Math.max(8, Math.ceil(Math.log2(Math.max(1, n)))));
}

/** Each radix pass sorts on this many bits; two passes order the top 22 bits of a position. */
const DIGIT = 11;

/**
 * Indices 0 … n − 1 of `positions` in ascending position order, ties by index. Two stable counting
 * passes (LSD radix, 2^11 buckets each, so the counts stay in cache and the scatters stream) order
 * the top 22 bits; positions are uniform hashes, so few neighbours then share those bits and a final
 * insertion sort, over positions carried along with their indices, finishes in about one step each.
 */
export function positionOrder(positions: Float64Array): Uint32Array {
  const n = positions.length;
  let index = new Uint32Array(n);
  let pos = new Float64Array(n);
  let nextIndex = new Uint32Array(n);
  let nextPos = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = positions[i] ?? 0;
    if (!(p >= 0 && p < SPACE)) throw new RangeError(`position ${p} is outside [0, 2^52)`);
    index[i] = i;
    pos[i] = p;
  }
  const size = 1 << DIGIT;
  const counts = new Uint32Array(size);
  for (const shift of [52 - 2 * DIGIT, 52 - DIGIT]) {
    const unit = 2 ** shift;
    counts.fill(0);
    for (let k = 0; k < n; k++) {
      const d = Math.floor((pos[k] ?? 0) / unit) & (size - 1);
      counts[d] = (counts[d] ?? 0) + 1;
    }
    let sum = 0;
    for (let d = 0; d < size; d++) {
      const c = counts[d] ?? 0;
      counts[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const p = pos[k] ?? 0;
      const d = Math.floor(p / unit) & (size - 1);
      const at = counts[d] ?? 0;
      counts[d] = at + 1;
      nextIndex[at] = index[k] ?? 0;
      nextPos[at] = p;
    }
    [index, nextIndex] = [nextIndex, index];
    [pos, nextPos] = [nextPos, pos];
  }
  for (let k = 1; k < n; k++) {
    const p = pos[k] ?? 0;
    if ((pos[k - 1] ?? 0) <= p) continue;
    const x = index[k] ?? 0;
    let h = k - 1;
    // The passes are stable, so equal positions already sit in index order.
    while (h >= 0 && (pos[h] ?? 0) > p) {
      index[h + 1] = index[h] ?? 0;
      pos[h + 1] = pos[h] ?? 0;
      h--;
    }
    index[h + 1] = x;
    pos[h + 1] = p;
  }
  return index;
}

/**
 * `values` taken in `order` (a gather). A plain loop: TypedArray.from with a map function goes through
 * the iterator protocol and is an order of magnitude slower on millions of elements.
 */
export function gather<T extends Float64Array | Uint32Array>(values: T, order: Uint32Array): T {
  const out = new (values.constructor as new (n: number) => T)(order.length);
  for (let k = 0; k < order.length; k++) out[k] = values[order[k] ?? 0] ?? 0;
  return out;
}
