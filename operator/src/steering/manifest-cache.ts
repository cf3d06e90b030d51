/**
 * Serialised manifests, keyed by what they depend on: title, the client's top clusters in order with
 * which of their servers are live (liveness.ts `liveSetKey`), address family, spread class and the
 * expiry minute. Ranking (health, load, client) and liveness are in the key, so heartbeats never
 * invalidate it: a renewal leaves the key as it was, a server going stale (or back) makes a new one.
 * Any change to clusters, titles, placements or secrets (a new `generation`) drops everything.
 *
 * Bounded by bytes, not entries: a manifest is a few hundred bytes to tens of kilobytes (a title's
 * ladder times the clusters offered), so a count bound says nothing about memory. Each entry is charged
 * its body, its key and ENTRY_OVERHEAD_BYTES; when a new one does not fit, the least recently used go.
 * Bodies must not be slices of Node's shared 8 KiB pool (`Buffer.from` of a short string is): a
 * retained slice would keep its whole slab alive, uncounted. `ownBuffer` makes one that is not.
 */
export class ManifestCache {
  readonly #maxBytes: number;
  #generation = -1;
  /** In order of use, least recent first: a hit moves its entry to the end. */
  #entries = new Map<string, Buffer>();
  #bytes = 0;

  /** `maxBytes` 0 keeps nothing. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** What the entries held now are charged, in bytes: never more than `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  get entries(): number {
    return this.#entries.size;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get(generation: number, key: string): Buffer | undefined {
    if (generation !== this.#generation) return undefined;
    const body = this.#entries.get(key);
    if (body !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, body);
    }
    return body;
  }

  set(generation: number, key: string, body: Buffer): void {
    if (generation !== this.#generation) {
      this.#entries = new Map();
      this.#bytes = 0;
      this.#generation = generation;
    }
    const cost = costOf(key, body);
    if (cost > this.#maxBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= costOf(key, old);
    }
    for (const [k, b] of this.#entries) {
      if (this.#bytes + cost <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= costOf(k, b);
    }
    this.#entries.set(key, body);
    this.#bytes += cost;
  }
}

/**
 * What an entry costs beyond its body and key, measured on Node 24 (100,000 entries, 90-character
 * keys: ~600 bytes of heap each): the Map slot, the Buffer and its ArrayBuffer, the key's header.
 */
export const ENTRY_OVERHEAD_BYTES = 512;

const costOf = (key: string, body: Buffer): number => body.length + key.length + ENTRY_OVERHEAD_BYTES;

/** `text` as UTF-8 in a Buffer of its own (not a slice of the shared pool), for the cache to hold. */
export function ownBuffer(text: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  b.write(text);
  return b;
}
