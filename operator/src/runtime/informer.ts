/**
 * A list-watch cache of one kind. Lists, then watches from the list's resourceVersion; when the server
 * ends a watch it resumes from the last version seen (bookmarks keep it fresh); when that version has
 * expired (410 Gone) it lists again and reports what changed in between, deletions included; when the
 * connection drops it retries with capped exponential back-off. Handlers get keys, not events: the
 * consumer reads the current object from the cache (level-triggered, as controller-runtime does).
 */

import type { Logger } from "pino";
import type { Kind } from "../api/index.js";
import { type Kube, type KubeObject, keyOf, WatchExpiredError } from "./kube.js";

export type ChangeHandler = (key: string) => void;

export class Informer<T extends KubeObject> {
  readonly kind: Kind;
  readonly #kube: Kube;
  readonly #namespace: string | undefined;
  readonly #log: Logger;
  readonly #store = new Map<string, T>();
  readonly #handlers: ChangeHandler[] = [];
  #resourceVersion = "";
  #synced: Promise<void>;
  #markSynced: () => void = () => {};

  constructor(kube: Kube, kind: Kind, log: Logger, opts: { namespace?: string } = {}) {
    this.#kube = kube;
    this.kind = kind;
    this.#namespace = opts.namespace;
    this.#log = log.child({ informer: kind.plural });
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** Calls `fn` with the key of every object that is added, changed or deleted. */
  onChange(fn: ChangeHandler): void {
    this.#handlers.push(fn);
  }

  /**
   * Calls `fn` when an object is added or deleted or its metadata.generation moves: a spec change.
   * Status-only writes (the operator's own, mostly) do not move the generation of a kind with a status
   * subresource, so they wake nothing that only cares about specs.
   */
  onSpecChange(fn: ChangeHandler): void {
    const seen = new Map<string, number | undefined>();
    this.onChange((key) => {
      const obj = this.#store.get(key);
      if (obj === undefined) {
        seen.delete(key);
        fn(key);
        return;
      }
      const gen = obj.metadata.generation;
      if (seen.has(key) && seen.get(key) === gen) return;
      seen.set(key, gen);
      fn(key);
    });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  /** Resolves once the first list has filled the cache. */
  synced(): Promise<void> {
    return this.#synced;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist();
          needList = false;
        }
        await this.#kube.watch<T>(
          this.kind,
          { namespace: this.#namespace, resourceVersion: this.#resourceVersion },
          (ev) => {
            failures = 0;
            this.#resourceVersion = ev.object.metadata.resourceVersion ?? this.#resourceVersion;
            if (ev.type === "BOOKMARK") return;
            const key = keyOf(ev.object);
            if (ev.type === "DELETED") this.#store.delete(key);
            else this.#store.set(key, ev.object);
            this.#emit(key);
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

  async #relist(): Promise<void> {
    const { items, resourceVersion } = await this.#kube.list<T>(this.kind, { namespace: this.#namespace });
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.#store.get(key);
      this.#store.set(key, obj);
      if (old?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emit(key);
    }
    for (const key of [...this.#store.keys()]) {
      if (!seen.has(key)) {
        this.#store.delete(key);
        this.#emit(key);
      }
    }
    this.#resourceVersion = resourceVersion;
    this.#markSynced();
  }

  #emit(key: string): void {
    for (const h of this.#handlers) h(key);
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
