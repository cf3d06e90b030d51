/**
 * A keyed work queue with the guarantees controllers rely on (client-go's workqueue is the reference):
 * - a key queued many times before a worker takes it is processed once (de-duplication);
 * - a key is never processed by two workers at once: added while in flight, it runs again after done();
 * - failures back off per key, exponentially (5 ms doubling to 1000 s), until forget() resets it.
 */
export type QueueOptions = Readonly<{ baseDelayMs?: number; maxDelayMs?: number }>;

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #base: number;
  readonly #max: number;
  #shutDown = false;
  adds = 0;
  retries = 0;

  constructor(opts: QueueOptions = {}) {
    this.#base = opts.baseDelayMs ?? 5;
    this.#max = opts.maxDelayMs ?? 1_000_000;
  }

  get depth(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.adds++;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // done() re-queues it
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds the key after `ms`; of several pending delays for one key, the soonest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, { timer, at });
  }

  /** Re-adds a failed key after its next back-off delay; returns the delay. */
  addRateLimited(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.retries++;
    const delay = Math.min(this.#max, this.#base * 2 ** n);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure history (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const t of this.#timers.values()) clearTimeout(t.timer);
    this.#timers.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}
