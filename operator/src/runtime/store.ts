/**
 * The typed cache of one kind. Each object is validated once, when it arrives, and kept with its raw
 * form, the typed value (or the errors that kept it from having one) and the local time it arrived.
 * Readers never parse or cast; a Lease's holder judges its renewals by when it saw them, not by the
 * clock of whoever wrote them.
 *
 * Handlers get the key (level-triggered, as controller-runtime's) and the entry as last seen: the
 * current one, or for a deletion the one deleted, so that a map from an object to the keys it wakes
 * (its owner, its cluster) still works when it is gone. An Informer feeds a Store from list-watch; a
 * test feeds one by hand (`upsert`, `remove`).
 */
import type { FieldError, TypedKind } from "../api/index.js";
import { type KubeObject, keyOf } from "./kube.js";

export type Entry<T> = Readonly<{
  key: string;
  object: KubeObject;
  /** The validated object; undefined when it failed validation (`errors` says why). */
  value: T | undefined;
  errors: readonly FieldError[];
  /** Local time (epoch ms) at which this resourceVersion arrived. */
  observedAt: number;
}>;

export type Handler<T> = (key: string, entry: Entry<T>) => void;

/** What readers of a kind get: its current entries. */
export interface Cache<T> {
  readonly kind: TypedKind<T>;
  get(key: string): Entry<T> | undefined;
  /** Every entry, or those of one namespace. */
  entries(namespace?: string): Entry<T>[];
  /** The valid objects, or those of one namespace. */
  list(namespace?: string): T[];
  /**
   * Moves with every add, delete and spec change, not with status-only writes: the resourceVersion
   * of the latest such change, a key for memos over specs (the region catalogs).
   */
  specRevision(): string;
}

/** Where a kind's changes come from. */
export interface Source<T> {
  /** Calls `fn` for every add, update and delete. */
  onChange(fn: Handler<T>): void;
  /**
   * Calls `fn` for adds, deletes and moves of metadata.generation only: status-only writes (the
   * operator's own, mostly) do not move the generation of a kind with a status subresource.
   */
  onSpecChange(fn: Handler<T>): void;
}

export type StoreOptions = Readonly<{ now?: () => number }>;

export class Store<T> implements Cache<T>, Source<T> {
  readonly kind: TypedKind<T>;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #handlers: { fn: Handler<T>; specOnly: boolean }[] = [];
  #specRevision = "";
  #specChanges = 0;

  constructor(kind: TypedKind<T>, opts: StoreOptions = {}) {
    this.kind = kind;
    // Date.now by default, injected for tests: arrival times are what staleness is judged by.
    this.#now = opts.now ?? Date.now;
  }

  onChange(fn: Handler<T>): void {
    this.#handlers.push({ fn, specOnly: false });
  }

  onSpecChange(fn: Handler<T>): void {
    this.#handlers.push({ fn, specOnly: true });
  }

  get(key: string): Entry<T> | undefined {
    return this.#entries.get(key);
  }

  entries(namespace?: string): Entry<T>[] {
    const all = [...this.#entries.values()];
    return namespace === undefined ? all : all.filter((e) => e.object.metadata.namespace === namespace);
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const e of this.#entries.values()) {
      if (e.value !== undefined && (namespace === undefined || e.object.metadata.namespace === namespace)) {
        out.push(e.value);
      }
    }
    return out;
  }

  specRevision(): string {
    return this.#specRevision;
  }

  /** An object was added or changed: validates it and tells the handlers. */
  upsert(received: KubeObject): void {
    const obj = withoutManagedFields(received);
    const key = keyOf(obj);
    const old = this.#entries.get(key);
    const rv = obj.metadata.resourceVersion;
    const r = this.kind.parse(obj);
    const entry: Entry<T> = {
      key,
      object: obj,
      value: r.ok ? r.value : undefined,
      errors: r.ok ? [] : r.errors,
      observedAt:
        old !== undefined && rv !== undefined && old.object.metadata.resourceVersion === rv
          ? old.observedAt
          : this.#now(),
    };
    this.#entries.set(key, entry);
    this.#emit(entry, old === undefined || old.object.metadata.generation !== obj.metadata.generation, rv);
  }

  /** An object was deleted (`obj` as the deletion reported it): handlers get its last entry. */
  remove(obj: KubeObject): void {
    this.#delete(keyOf(obj), obj.metadata.resourceVersion);
  }

  /**
   * A fresh list at `resourceVersion`: what changed since the cache last saw it is reported as
   * changes, what is gone as deletions; what is unchanged is not reported.
   */
  replace(items: readonly KubeObject[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      if (this.#entries.get(key)?.object.metadata.resourceVersion !== obj.metadata.resourceVersion) this.upsert(obj);
    }
    for (const key of [...this.#entries.keys()]) if (!seen.has(key)) this.#delete(key, resourceVersion);
  }

  #delete(key: string, resourceVersion: string | undefined): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.delete(key);
    this.#emit(old, true, resourceVersion);
  }

  #emit(entry: Entry<T>, specChanged: boolean, resourceVersion: string | undefined): void {
    if (specChanged) this.#specRevision = resourceVersion ?? `#${++this.#specChanges}`;
    for (const h of this.#handlers) if (specChanged || !h.specOnly) h.fn(entry.key, entry);
  }
}

/**
 * The object without metadata.managedFields, which no reader uses: server-side apply's record of who
 * owns which field is often larger than the object itself (a Title's), and every cached copy kept it.
 * controller-runtime's caches strip it the same way (cache.TransformStripManagedFields).
 */
function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!("managedFields" in obj.metadata)) return obj;
  const { managedFields: _, ...metadata } = obj.metadata as KubeObject["metadata"] & { managedFields?: unknown };
  return { ...obj, metadata };
}
