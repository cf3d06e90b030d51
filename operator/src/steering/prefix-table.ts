/**
 * Longest-prefix match on a leaf-pushed multibit trie stored in one Uint32Array.
 *
 * Every node is 2^stride entries. An entry is either a leaf (value + 1, 0 meaning "no route") or,
 * with the top bit set, the offset of a child node. Because every child starts as a copy of the
 * entry it replaced (leaf pushing), a lookup never backtracks: it walks down until it reads a leaf.
 * Strides [24, 8] are DIR-24-8; [16, 8, 8] a 3-level trie; bench/steering.ts compares them.
 *
 * A table is immutable once built; updates build a new one and swap the reference, so readers
 * never see a half-built table.
 */

const CHILD = 0x80000000;
const MAX_STRIDE = 24;

/** Prefixes in parallel arrays: keys hold `wordsPerKey` words per prefix, most significant first. */
export type PrefixList = Readonly<{
  wordsPerKey: 1 | 4;
  keys: Uint32Array;
  lengths: Uint8Array;
  values: Uint32Array;
}>;

export class InvalidStridesError extends Error {
  override name = "InvalidStridesError";
}

/** Measured in bench/steering.ts: as fast as DIR-24-8 ([24, 8]) on the full table at 40% of its memory. */
export const IPV4_STRIDES: readonly number[] = [16, 8, 8];
/** 16 then bytes: IPv6 tables are sparse below the first 16 bits, so wide nodes would be mostly copies. */
export const IPV6_STRIDES: readonly number[] = [16, ...new Array<number>(14).fill(8)];

/** Per-level lookup plan: which word, how far to shift it, and the mask of the stride. */
type Levels = Readonly<{ word: Uint8Array; shift: Uint8Array; mask: Uint32Array; stride: Uint8Array }>;

function planLevels(keyBits: number, strides: readonly number[]): Levels {
  const total = strides.reduce((a, b) => a + b, 0);
  if (total !== keyBits) throw new InvalidStridesError(`strides must sum to ${keyBits}, got ${total}`);
  const n = strides.length;
  const levels = {
    word: new Uint8Array(n),
    shift: new Uint8Array(n),
    mask: new Uint32Array(n),
    stride: new Uint8Array(n),
  };
  let consumed = 0;
  for (const [l, s] of strides.entries()) {
    if (!Number.isInteger(s) || s < 1 || s > MAX_STRIDE) {
      throw new InvalidStridesError(`stride ${l} must be an integer 1..${MAX_STRIDE}, got ${s}`);
    }
    const bitInWord = consumed % 32;
    if (bitInWord + s > 32) throw new InvalidStridesError(`stride ${l} crosses a 32-bit word boundary`);
    levels.word[l] = consumed >>> 5;
    levels.shift[l] = 32 - bitInWord - s;
    levels.mask[l] = (1 << s) - 1;
    levels.stride[l] = s;
    consumed += s;
  }
  return levels;
}

/** Returns a copy of `a` with room for at least `need` entries (doubling, so appends are amortised O(1)). */
function grow(a: Uint32Array<ArrayBuffer>, need: number): Uint32Array<ArrayBuffer> {
  if (need <= a.length) return a;
  const b = new Uint32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/**
 * Builds the trie. Prefixes are inserted shortest first, so a range being filled never contains a
 * child yet (children are only made by longer prefixes) and a plain `fill` is correct. A prefix
 * that appears twice keeps the value given last.
 */
function buildNodes(list: PrefixList, levels: Levels): Uint32Array {
  const n = list.lengths.length;
  const keyBits = list.wordsPerKey * 32;
  // Counting sort of prefix indices by length.
  const starts = new Uint32Array(keyBits + 2);
  for (let i = 0; i < n; i++) {
    const len = list.lengths[i] ?? 0;
    if (len > keyBits) throw new RangeError(`prefix ${i}: length ${len} exceeds ${keyBits} bits`);
    starts[len + 1] = (starts[len + 1] ?? 0) + 1;
  }
  for (let l = 1; l < starts.length; l++) starts[l] = (starts[l] ?? 0) + (starts[l - 1] ?? 0);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const len = list.lengths[i] ?? 0;
    const pos = starts[len] ?? 0;
    order[pos] = i;
    starts[len] = pos + 1;
  }

  const rootSize = 2 ** (levels.stride[0] ?? 0);
  let t = new Uint32Array(rootSize + 1024);
  let used = rootSize;
  for (let k = 0; k < n; k++) {
    const i = order[k] ?? 0;
    const len = list.lengths[i] ?? 0;
    const leaf = (list.values[i] ?? 0) + 1;
    if (leaf >= CHILD) throw new RangeError(`prefix ${i}: value ${leaf - 1} does not fit in 31 bits`);
    const keyBase = i * list.wordsPerKey;
    let off = 0;
    let consumed = 0;
    for (let l = 0; ; l++) {
      const stride = levels.stride[l] ?? 0;
      const word = list.keys[keyBase + (levels.word[l] ?? 0)] ?? 0;
      const idx = (word >>> (levels.shift[l] ?? 0)) & (levels.mask[l] ?? 0);
      const end = consumed + stride;
      if (len <= end) {
        const span = 2 ** (end - len);
        const first = off + (idx & ~(span - 1));
        t.fill(leaf, first, first + span);
        break;
      }
      const e = t[off + idx] ?? 0;
      if (e >= CHILD) {
        off = e - CHILD;
      } else {
        const size = 2 ** (levels.stride[l + 1] ?? 0);
        t = grow(t, used + size);
        t.fill(e, used, used + size);
        t[off + idx] = CHILD + used;
        off = used;
        used += size;
      }
      consumed = end;
    }
  }
  return t.slice(0, used);
}

/** IPv4 longest-prefix match; `lookup` returns the value of the longest matching prefix or -1. */
export class Ipv4PrefixTable {
  readonly #t: Uint32Array;
  readonly #levels: Levels;
  // The first two levels unrolled: most lookups on a real table end there.
  readonly #shift0: number;
  readonly #shift1: number;
  readonly #mask1: number;

  private constructor(t: Uint32Array, levels: Levels) {
    this.#t = t;
    this.#levels = levels;
    this.#shift0 = levels.shift[0] ?? 0;
    this.#shift1 = levels.shift[1] ?? 0;
    this.#mask1 = levels.mask[1] ?? 0;
  }

  static build(list: PrefixList, strides: readonly number[] = IPV4_STRIDES): Ipv4PrefixTable {
    if (list.wordsPerKey !== 1) throw new RangeError("an IPv4 table needs one word per key");
    // Strides of at most 24 bits summing to 32 guarantee the two levels the lookup unrolls.
    const levels = planLevels(32, strides);
    return new Ipv4PrefixTable(buildNodes(list, levels), levels);
  }

  /** A table from the nodes of one built with the same strides (moved from the thread that built it). */
  static fromNodes(nodes: Uint32Array, strides: readonly number[] = IPV4_STRIDES): Ipv4PrefixTable {
    return new Ipv4PrefixTable(nodes, planLevels(32, strides));
  }

  lookup(addr: number): number {
    const t = this.#t;
    let e = t[addr >>> this.#shift0] ?? 0;
    if (e < CHILD) return e - 1;
    e = t[e - CHILD + ((addr >>> this.#shift1) & this.#mask1)] ?? 0;
    if (e < CHILD) return e - 1;
    const { shift, mask } = this.#levels;
    for (let l = 2; ; l++) {
      e = t[e - CHILD + ((addr >>> (shift[l] ?? 0)) & (mask[l] ?? 0))] ?? 0;
      if (e < CHILD) return e - 1;
    }
  }

  get bytes(): number {
    return this.#t.byteLength;
  }

  /** The trie's one array: what crosses threads. */
  get nodes(): Uint32Array {
    return this.#t;
  }
}

/** IPv6 longest-prefix match over four 32-bit words; `lookup` returns the value or -1. */
export class Ipv6PrefixTable {
  readonly #t: Uint32Array;
  readonly #levels: Levels;

  private constructor(t: Uint32Array, levels: Levels) {
    this.#t = t;
    this.#levels = levels;
  }

  static build(list: PrefixList, strides: readonly number[] = IPV6_STRIDES): Ipv6PrefixTable {
    if (list.wordsPerKey !== 4) throw new RangeError("an IPv6 table needs four words per key");
    const levels = planLevels(128, strides);
    return new Ipv6PrefixTable(buildNodes(list, levels), levels);
  }

  /** A table from the nodes of one built with the same strides (moved from the thread that built it). */
  static fromNodes(nodes: Uint32Array, strides: readonly number[] = IPV6_STRIDES): Ipv6PrefixTable {
    return new Ipv6PrefixTable(nodes, planLevels(128, strides));
  }

  lookup(w0: number, w1: number, w2: number, w3: number): number {
    const t = this.#t;
    const { word, shift, mask } = this.#levels;
    let off = 0;
    for (let l = 0; ; l++) {
      const wi = word[l];
      const w = wi === 0 ? w0 : wi === 1 ? w1 : wi === 2 ? w2 : w3;
      const e = t[off + ((w >>> (shift[l] ?? 0)) & (mask[l] ?? 0))] ?? 0;
      if (e < CHILD) return e - 1;
      off = e - CHILD;
    }
  }

  get bytes(): number {
    return this.#t.byteLength;
  }

  /** The trie's one array: what crosses threads. */
  get nodes(): Uint32Array {
    return this.#t;
  }
}
