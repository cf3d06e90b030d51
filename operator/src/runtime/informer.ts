/**
 * A list-watch cache of one kind: a Store fed from the API. Lists, then watches from the list's
 * resourceVersion; when the server ends a watch it resumes from the last version seen (bookmarks keep
 * it fresh); when that version has expired (410 Gone) it lists again and reports what changed in
 * between, deletions included; when the connection drops it retries with capped exponential back-off.
 */
import type { Logger } from "pino";
import type { TypedKind } from "../api/index.js";
import { type Kube, WatchExpiredError } from "./kube.js";
import { Store, type StoreOptions } from "./store.js";

export type InformerOptions = StoreOptions & Readonly<{ namespace?: string | undefined }>;

export class Informer<T> extends Store<T> {
  readonly #kube: Pick<Kube, "list" | "watch">;
  readonly #namespace: string | undefined;
  readonly #log: Logger;
  #resourceVersion = "";
  #hasSynced = false;
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => {};

  constructor(kube: Pick<Kube, "list" | "watch">, kind: TypedKind<T>, log: Logger, opts: InformerOptions = {}) {
    super(kind, opts);
    this.#kube = kube;
    this.#namespace = opts.namespace;
    this.#log = log.child({ informer: kind.plural });
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** Whether the first list has filled the cache. */
  get hasSynced(): boolean {
    return this.#hasSynced;
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
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof WatchExpiredError) {
          this.#log.info("watch expired; listing again");
          needList = true;
          continue;
        }
        failures++;
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
    this.#markSynced();
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
