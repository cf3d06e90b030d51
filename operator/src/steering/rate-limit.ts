/**
 * A per-client request rate limit: a token bucket per client (an IPv4 address, or an IPv6 /64, which
 * one subscriber usually holds whole), refilled at `perSecond` up to `burst`. The buckets are bounded:
 * past `maxClients` the least recently seen client is forgotten, which can only let it through again
 * (fail open), never turn anyone away wrongly. Pure: time comes in as `nowMs`.
 */
import type { IpAddress } from "./ip.js";

export type RateLimitOptions = Readonly<{ perSecond: number; burst: number; maxClients?: number | undefined }>;

type Bucket = { tokens: number; atMs: number };

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #max: number;
  /** Least recently seen first: a request moves its client to the end. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: RateLimitOptions) {
    this.#perMs = o.perSecond / 1000;
    this.#burst = o.burst;
    this.#max = o.maxClients ?? 100_000;
  }

  /** Clients tracked now: never more than `maxClients`. */
  get clients(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `client`: 0 when the request may go ahead, else the seconds until it may. */
  take(client: IpAddress, nowMs: number): number {
    const key = client.family === 4 ? `${client.words[0]}` : `${client.words[0]}:${client.words[1]}`;
    const b = this.#buckets.get(key);
    let tokens = this.#burst;
    if (b !== undefined) {
      this.#buckets.delete(key);
      tokens = Math.min(this.#burst, b.tokens + Math.max(0, nowMs - b.atMs) * this.#perMs);
    } else if (this.#buckets.size >= this.#max) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
    const allowed = tokens >= 1;
    this.#buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, atMs: nowMs });
    return allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000));
  }
}
