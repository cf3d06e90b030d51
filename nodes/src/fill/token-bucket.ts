/**
 * A token bucket shared by all downloads of one fill, so the fill as a whole stays under the cluster's
 * bandwidth cap. Callers reserve bytes and wait the returned delay before taking more from the network;
 * the bucket may go into debt, so a chunk larger than the burst still passes after its wait.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** `now` in milliseconds; injected so tests run on a fake clock. */
  constructor(bytesPerSec: number, burstBytes: number, now: () => number = () => performance.now()) {
    if (!(bytesPerSec > 0)) throw new RangeError(`token bucket: rate must be > 0 bytes/s, got ${bytesPerSec}`);
    if (!(burstBytes > 0)) throw new RangeError(`token bucket: burst must be > 0 bytes, got ${burstBytes}`);
    this.#perMs = bytesPerSec / 1000;
    this.#burst = burstBytes;
    this.#now = now;
    this.#tokens = burstBytes;
    this.#last = now();
  }

  /** Reserves `n` bytes; returns how many ms the caller must wait before using them. */
  reserve(n: number): number {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#last) * this.#perMs) - n;
    this.#last = t;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#perMs;
  }

  async take(n: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(n);
    if (wait > 0) await sleep(wait, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** "1.2Gbps", "800Mbps", "10Gbit", "500kbps" (SI, bits) or a number of bits/s → bytes per second. */
export function parseBandwidth(v: string | number): number {
  if (typeof v === "number") {
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`bandwidth: must be > 0 bits/s, got ${v}`);
    return v / 8;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([kKMGT]?)(?:bps|bit\/s|bit)$/.exec(v.trim());
  if (!m?.[1]) throw new RangeError(`bandwidth: ${JSON.stringify(v)} is not like "1.2Gbps", "800Mbps" or "10Gbit"`);
  const scale = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ""] ?? 1;
  const bits = Number(m[1]) * scale;
  if (!(bits > 0)) throw new RangeError(`bandwidth: must be > 0, got ${JSON.stringify(v)}`);
  return bits / 8;
}
