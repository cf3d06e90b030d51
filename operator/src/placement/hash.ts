/**
 * Ring hashing. Positions are integers in [0, 2^52), exact in a float64, built from two independent
 * 32-bit murmur3-style lanes so that a 100k-token ring has no practical collisions (2^52 space).
 * Everything is integer arithmetic (Math.imul, shifts), so every machine computes the same positions.
 * Keys are hashed over their UTF-16 code units, two per 32-bit block, which avoids a UTF-8 encode per key.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const D1 = 0x85ebca77;
const D2 = 0xc2b2ae3d;
const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;
const LOW_BITS = 2 ** 20;

function round(h: number, k: number, c1: number, c2: number): number {
  let x = Math.imul(k, c1);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, c2);
  let y = h ^ x;
  y = (y << 13) | (y >>> 19);
  return (Math.imul(y, 5) + 0xe6546b64) | 0;
}

function finalize(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function combine(a: number, b: number): number {
  return a * LOW_BITS + (b >>> 12);
}

/** The ring position of a string key. */
export function keyPosition(key: string): number {
  let a = SEED_A;
  let b = SEED_B;
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    a = round(a, k, C1, C2);
    b = round(b, k, D1, D2);
  }
  if (i < n) {
    const k = key.charCodeAt(i);
    a = round(a, k, C1, C2);
    b = round(b, k, D1, D2);
  }
  return combine(finalize(a ^ n), finalize(b ^ n));
}

/** Two 32-bit seeds identifying a server by name: its tokens depend on its name only, never on its index. */
export function serverSeed(name: string): readonly [number, number] {
  const p = keyPosition(name);
  return [Math.floor(p / LOW_BITS) >>> 0, (p % LOW_BITS) >>> 0];
}

/** Position of token `i` of the server with seed `seed`: hash(j, i). */
export function tokenPosition(seed: readonly [number, number], i: number): number {
  const a = finalize(round(seed[0], i, C1, C2) ^ 4);
  const b = finalize(round(seed[1], i, D1, D2) ^ 4);
  return combine(a, b);
}

/**
 * Start position of replica `c` ≥ 1 of a key at `position`, independent of the primary's position.
 * Also serves as hash(key, server) for rendezvous hashing, with `c` a server seed.
 */
export function replicaPosition(position: number, c: number): number {
  const hi = Math.floor(position / LOW_BITS) | 0;
  const lo = (position % LOW_BITS) | 0;
  const a = finalize(round(round(hi, c, C1, C2), lo, C1, C2) ^ 8);
  const b = finalize(round(round(lo, c, D1, D2), hi, D1, D2) ^ 8);
  return combine(a, b);
}
