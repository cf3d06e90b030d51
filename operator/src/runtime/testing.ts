/**
 * Fakes for tests of what reads the caches: Stores fed by hand in place of informers, and the keys a
 * controller's declared wiring enqueues for the changes a test makes.
 */
import type { Kind, TypedKind } from "../api/index.js";
import { CacheSet } from "./caches.js";
import type { EventRecorder, NewEvent } from "./events.js";
import { ApiError, type KubeClient, type KubeObject } from "./kube.js";
import type { Watch } from "./manager.js";
import { Store } from "./store.js";

/** Caches whose stores a test fills with `of(kind).upsert(obj)` and `remove(obj)`. */
export const fakeCaches = (now: () => number = () => 0): CacheSet =>
  new CacheSet(<T>(kind: TypedKind<T>) => new Store(kind, { now }));

/**
 * Subscribes `spec`'s For and Watches to `caches` as the manager does; `take()` returns (and forgets)
 * the keys enqueued since the last call, sorted and without duplicates, as a work queue holds them.
 */
export function wiring(spec: Readonly<{ for: Watch; watches: readonly Watch[] }>, caches: CacheSet) {
  const keys = new Set<string>();
  for (const w of [spec.for, ...spec.watches]) w.subscribe(caches, (k) => keys.add(k));
  return {
    take(): string[] {
      const out = [...keys].sort();
      keys.clear();
      return out;
    },
  };
}

/** A copy of `o` in `namespace`, at a resourceVersion and generation, with fields of `over` replacing its own. */
export function at(
  o: { metadata: object },
  namespace: string,
  resourceVersion: string,
  generation: number,
  over: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "",
    kind: "",
    ...structuredClone(o),
    ...over,
    metadata: { ...structuredClone(o.metadata), namespace, resourceVersion, generation } as KubeObject["metadata"],
  };
}

/**
 * An API server where every list of the kinds in `missing` fails as for a CRD not installed (404), and
 * every other kind is empty; watches wait for their stop; writes succeed. What a process sees before
 * `kubectl apply -f crds/`.
 */
export function fakeKube(missing: readonly Kind[] = []): KubeClient {
  const gone = (k: Kind) => missing.some((m) => m.plural === k.plural && m.group === k.group);
  return {
    get: async () => undefined,
    list: async (kind) => {
      if (gone(kind))
        throw new ApiError(404, "NotFound", `the server could not find the requested resource (${kind.plural})`);
      return { items: [], resourceVersion: "1" };
    },
    watch: (_kind, opts, _onEvent, signal) => {
      opts.onOpen?.();
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
    apply: async <T extends KubeObject>(_k: Kind, obj: KubeObject) => obj as T,
    create: async <T extends KubeObject>(_k: Kind, obj: KubeObject) => obj as T,
    update: async <T extends KubeObject>(_k: Kind, obj: KubeObject) => obj as T,
    delete: async () => {},
  };
}

/** An EventRecorder that keeps what it is given, for tests of what controllers record. */
export function keptEvents(): EventRecorder & { events: NewEvent[] } {
  const events: NewEvent[] = [];
  return {
    events,
    record: async (e) => {
      events.push(e);
    },
  };
}
