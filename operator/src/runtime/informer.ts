/**
 * A list-watch cache of one kind: a Store fed from the API. Lists, then watches from the list's
 * resourceVersion; when the server ends a watch it resumes from the last version seen (bookmarks keep
 * it fresh); when that version has expired (410 Gone) it lists again and reports what changed in
 * between, deletions included; when the connection drops it retries with capped exponential back-off.
 *
 * It says how its list-watch stands (`health`, `onHealth`): a reader that judges time-based facts by
 * when it saw objects change (a heartbeat Lease's renewal) must know when it could not have seen them.
 */
import type { Logger } from "pino";
import type { TypedKind } from "../api/index.js";
import { type Kube, WatchExpiredError } from "./kube.js";
import { Store, type StoreOptions } from "./store.js";

export type InformerOptions = StoreOptions & Readonly<{ namespace?: string | undefined }>;

/**
 * How one informer's list-watch stands. It is up from a successful list, or a watch the server
 * accepted, until that watch ends or a list or watch fails; then down until one succeeds again.
 */
export type WatchHealth = Readonly<{
  /** The kind's plural, e.g. "leases". */
  kind: string;
  /** Whether the first list has filled the cache. */
  synced: boolean;
  /** Since when (epoch ms, the informer's clock) it has been down; undefined while it is up. */
  downSinceMs: number | undefined;
  /** Why it is down, when a list or watch failed (not set when the server merely ended a watch). */
  error: string | undefined;
}>;

export class Informer<T> extends Store<T> {
  readonly #kube: Pick<Kube, "list" | "watch">;
  readonly #namespace: string | undefined;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #healthHandlers: ((h: WatchHealth) => void)[] = [];
  #health: WatchHealth;
  #resourceVersion = "";
  #hasSynced = false;
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => {};

  constructor(kube: Pick<Kube, "list" | "watch">, kind: TypedKind<T>, log: Logger, opts: InformerOptions = {}) {
    super(kind, opts);
    this.#kube = kube;
    this.#namespace = opts.namespace;
    this.#log = log.child({ informer: kind.plural });
    this.#clock = opts.now ?? Date.now;
    this.#health = { kind: kind.plural, synced: false, downSinceMs: undefined, error: undefined };
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** Whether the first list has filled the cache. */
  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** How its list-watch stands now. */
  get health(): WatchHealth {
    return this.#health;
  }

  /** Calls `fn` whenever the list-watch goes up or down (and once it has synced). */
  onHealth(fn: (h: WatchHealth) => void): void {
    this.#healthHandlers.push(fn);
  }

  /**
   * Resolves true once the first list has filled the cache, or false as soon as `signal` aborts: a
   * cache that never syncs (its CRD not installed, RBAC missing for its kind) must not hold up a stop.
   */
  synced(signal: AbortSignal): Promise<boolean> {
    if (this.#hasSynced) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal.addEventListener("abort", onAbort, { once: true });
      void this.#synced.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      });
    });
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    const onOpen = () => {
      failures = 0;
      this.#up();
    };
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist(signal);
          needList = false;
        }
        await this.#kube.watch(
          this.kind,
          {
            namespace: this.#namespace,
            resourceVersion: this.#resourceVersion,
            labelSelector: this.kind.labelSelector,
            onOpen,
          },
          (ev) => {
            failures = 0;
            this.#resourceVersion = ev.object.metadata.resourceVersion ?? this.#resourceVersion;
            if (ev.type === "BOOKMARK") return;
            if (ev.type === "DELETED") this.remove(ev.object);
            else this.upsert(ev.object);
          },
          signal,
        );
        // The server ended the watch (its timeout, or it went away): down until the next one opens.
        if (!signal.aborted) this.#down(undefined);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof WatchExpiredError) {
          this.#log.info("watch expired; listing again");
          needList = true;
          continue;
        }
        failures++;
        this.#down(err);
        const delayMs = Math.min(30_000, 200 * 2 ** Math.min(failures, 8));
        this.#log.warn({ err, delayMs }, "list/watch failed; retrying");
        await sleep(delayMs, signal);
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#kube.list(this.kind, {
      namespace: this.#namespace,
      labelSelector: this.kind.labelSelector,
      signal,
    });
    this.replace(items, resourceVersion);
    this.#resourceVersion = resourceVersion;
    this.#hasSynced = true;
    this.#up();
    this.#markSynced();
  }

  #up(): void {
    const since = this.#health.downSinceMs;
    if (this.#health.synced === this.#hasSynced && since === undefined) return;
    if (since !== undefined && this.#clock() - since > 1000) {
      this.#log.info({ downSeconds: Math.round((this.#clock() - since) / 1000) }, "list/watch back");
    }
    this.#setHealth({ ...this.#health, synced: this.#hasSynced, downSinceMs: undefined, error: undefined });
  }

  /** Down since the first failure or end: a retry that fails again keeps the time it went down. */
  #down(err: unknown): void {
    const error = err === undefined ? undefined : err instanceof Error ? err.message : String(err);
    if (this.#health.downSinceMs !== undefined && error === this.#health.error) return;
    this.#setHealth({ ...this.#health, downSinceMs: this.#health.downSinceMs ?? this.#clock(), error });
  }

  #setHealth(h: WatchHealth): void {
    this.#health = h;
    for (const fn of this.#healthHandlers) fn(h);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
