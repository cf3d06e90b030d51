/**
 * The caches of one process, one per kind, shared by everyone who reads that kind: the operator's five
 * controllers read one parsed copy of each object, as does steering in its own process.
 */
import type { Logger } from "pino";
import type { TypedKind } from "../api/index.js";
import { Informer, type WatchHealth } from "./informer.js";
import type { Kube } from "./kube.js";
import type { Cache, Source, Store } from "./store.js";

/** A kind's cache and its changes. */
export type Shared<T> = Cache<T> & Source<T>;

/** How controllers and their wiring reach the caches: by kind. */
export interface Caches {
  of<T>(kind: TypedKind<T>): Shared<T>;
}

/** Makes the cache of a kind the first time it is asked for (an Informer in a process, a Store in a test). */
export class CacheSet implements Caches {
  readonly #make: <T>(kind: TypedKind<T>) => Store<T>;
  readonly #byKind = new Map<TypedKind<unknown>, unknown>();

  constructor(make: <T>(kind: TypedKind<T>) => Store<T>) {
    this.#make = make;
  }

  of<T>(kind: TypedKind<T>): Store<T> {
    // The map holds, for each kind, the store #make made for it: a Store<T> for a TypedKind<T>.
    const found = this.#byKind.get(kind) as Store<T> | undefined;
    if (found !== undefined) return found;
    const made = this.#make(kind);
    this.#byKind.set(kind, made);
    return made;
  }
}

/** Whether a process's caches can be relied on, and if not, why: what /readyz answers. */
export type Readiness = Readonly<{ ok: boolean; reason: string }>;

/**
 * The informers of one process: made on first use (a kind first asked for after the start gets its
 * watch too), all running until `signal` aborts.
 */
export class Informers implements Caches {
  readonly #set: CacheSet;
  readonly #all: {
    readonly kind: { readonly plural: string };
    readonly hasSynced: boolean;
    readonly health: WatchHealth;
    synced(signal: AbortSignal): Promise<boolean>;
  }[] = [];
  readonly #running: Promise<void>[] = [];
  readonly #healthHandlers: ((h: WatchHealth) => void)[] = [];

  constructor(
    kube: Pick<Kube, "list" | "watch">,
    log: Logger,
    opts: Readonly<{ namespace?: string | undefined; now?: () => number }>,
    signal: AbortSignal,
  ) {
    this.#set = new CacheSet(<T>(kind: TypedKind<T>) => {
      const informer = new Informer(kube, kind, log, opts);
      this.#all.push(informer);
      informer.onHealth((h) => {
        for (const fn of this.#healthHandlers) fn(h);
      });
      // Handlers registered in the same tick still see everything: the first list is an await away.
      this.#running.push(informer.run(signal));
      return informer;
    });
  }

  of<T>(kind: TypedKind<T>): Store<T> {
    return this.#set.of(kind);
  }

  /** Whether every informer has filled its cache. */
  hasSynced(): boolean {
    return this.#all.every((i) => i.hasSynced);
  }

  /** True once every informer has synced; false as soon as `signal` aborts (see Informer.synced). */
  async synced(signal: AbortSignal): Promise<boolean> {
    return (await Promise.all(this.#all.map((i) => i.synced(signal)))).every(Boolean);
  }

  /** How each informer's list-watch stands. */
  health(): WatchHealth[] {
    return this.#all.map((i) => i.health);
  }

  /** Calls `fn` whenever any informer's list-watch goes up or down. */
  onHealth(fn: (h: WatchHealth) => void): void {
    this.#healthHandlers.push(fn);
  }

  /**
   * Ready once every cache has synced, and while no list-watch has been down for longer than `graceMs`
   * at `nowMs` (a watch the server ends is down for the moment it takes to open the next; an API server
   * that went away, or RBAC taken back, keeps it down). The reason names the kinds.
   */
  readiness(nowMs: number, graceMs: number): Readiness {
    const unsynced = this.#all.filter((i) => !i.hasSynced).map((i) => i.kind.plural);
    if (unsynced.length > 0) return { ok: false, reason: `caches not synced: ${unsynced.join(", ")}` };
    const down = this.health().filter((h) => h.downSinceMs !== undefined && nowMs - h.downSinceMs > graceMs);
    if (down.length === 0) return { ok: true, reason: "ok" };
    const since = Math.min(...down.map((h) => h.downSinceMs ?? nowMs));
    const kinds = down.map((h) => h.kind).join(", ");
    return { ok: false, reason: `watches down for ${Math.round((nowMs - since) / 1000)} s: ${kinds}` };
  }

  /** Resolves once every informer has stopped. */
  async stopped(): Promise<void> {
    await Promise.all(this.#running);
  }
}
