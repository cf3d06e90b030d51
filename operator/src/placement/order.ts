/** Ring positions are integers in [0, 2^52) (see hash.ts). */
const SPACE = 2 ** 52;

/** Bits of the bucket index for `n` positions: about one position per bucket, 2^8 … 2^20 buckets. */
export function bucketBits(n: number): number {
  return Math.min(20, Math.max(8, Math.ceil(Math.log2(Math.max(1, n)))));
}

/**
 * Indices 0 … n − 1 of `positions` in ascending position order, ties by index. Hashed positions are
 * uniform, so a counting sort on the top bits followed by an insertion sort inside each bucket (about
 * one element each) is linear, and several times faster than a comparator sort.
 */
export function positionOrder(positions: Float64Array): Uint32Array {
  const n = positions.length;
  const bits = bucketBits(n);
  const starts = new Uint32Array((1 << bits) + 1);
  const bucket = new Uint32Array(n);
  const width = 2 ** (52 - bits);
  for (let i = 0; i < n; i++) {
    const p = positions[i] ?? 0;
    if (!(p >= 0 && p < SPACE)) throw new RangeError(`position ${p} is outside [0, 2^52)`);
    const b = Math.floor(p / width);
    bucket[i] = b;
    starts[b + 1] = (starts[b + 1] ?? 0) + 1;
  }
  for (let b = 0; b < 1 << bits; b++) starts[b + 1] = (starts[b + 1] ?? 0) + (starts[b] ?? 0);
  const fill = starts.slice(0, 1 << bits);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const b = bucket[i] ?? 0;
    const k = fill[b] ?? 0;
    order[k] = i;
    fill[b] = k + 1;
  }
  for (let b = 0; b < 1 << bits; b++) {
    const end = starts[b + 1] ?? 0;
    for (let k = (starts[b] ?? 0) + 1; k < end; k++) {
      const x = order[k] ?? 0;
      const p = positions[x] ?? 0;
      let h = k - 1;
      // Indices were dealt in ascending order, so equal positions already sit in index order.
      while (h >= (starts[b] ?? 0) && (positions[order[h] ?? 0] ?? 0) > p) {
        order[h + 1] = order[h] ?? 0;
        h--;
      }
      order[h + 1] = x;
    }
  }
  return order;
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
