/**
 * Serialised manifests, keyed by what they depend on: title, the client's top clusters in order with
 * which of their servers are live (liveness.ts `liveSetKey`), address family, spread class and the
 * expiry minute. Ranking (health, load, client) and liveness are in the key, so heartbeats never
 * invalidate it: a renewal leaves the key as it was, a server going stale (or back) makes a new one.
 * Any change to clusters, titles, placements or secrets (a new `generation`) drops everything.
 * Bounded: when full it starts over rather than tracking recency per hit.
 */
export class ManifestCache {
  readonly #max: number;
  #generation = -1;
  #entries = new Map<string, Buffer>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get(generation: number, key: string): Buffer | undefined {
    return generation === this.#generation ? this.#entries.get(key) : undefined;
  }

  set(generation: number, key: string, body: Buffer): void {
    if (generation !== this.#generation || this.#entries.size >= this.#max) {
      this.#entries = new Map();
      this.#generation = generation;
    }
    this.#entries.set(key, body);
  }
}
