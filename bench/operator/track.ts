/**
 * What the bench watches to know when the operator has converged: a list-watch of one kind with the
 * bench's own (uncounted) client that keeps, per object, only the few facts it checks. A watch, not
 * polling: listing 10,000 Titles every half second would load the API server the operator is measured
 * against, and a watch tells the moment each object changed.
 */
import type { Kind } from "../../operator/src/api/index.js";
import { type Kube, type KubeObject, WatchExpiredError } from "../../operator/src/runtime/kube.js";

export class Tracker<S> {
  readonly items = new Map<string, S>();
  /** performance.now() of the last change seen. */
  lastChangeAt = 0;
  readonly #kube: Kube;
  readonly #kind: Kind;
  readonly #namespace: string;
  readonly #summarize: (o: KubeObject) => S;

  constructor(kube: Kube, kind: Kind, namespace: string, summarize: (o: KubeObject) => S) {
    this.#kube = kube;
    this.#kind = kind;
    this.#namespace = namespace;
    this.#summarize = summarize;
  }

  /** Lists, then watches until `signal` aborts; an expired watch lists again. Resolves once the first list is in. */
  async start(signal: AbortSignal): Promise<void> {
    let rv = await this.#list(signal);
    void (async () => {
      while (!signal.aborted) {
        try {
          await this.#kube.watch(
            this.#kind,
            { namespace: this.#namespace, resourceVersion: rv },
            (ev) => {
              rv = ev.object.metadata.resourceVersion ?? rv;
              if (ev.type === "BOOKMARK") return;
              this.lastChangeAt = performance.now();
              if (ev.type === "DELETED") this.items.delete(ev.object.metadata.name);
              else this.items.set(ev.object.metadata.name, this.#summarize(ev.object));
            },
            signal,
          );
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof WatchExpiredError) rv = await this.#list(signal);
          else await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
  }

  async #list(signal: AbortSignal): Promise<string> {
    const { items, resourceVersion } = await this.#kube.list(this.#kind, { namespace: this.#namespace, signal });
    this.items.clear();
    for (const o of items) this.items.set(o.metadata.name, this.#summarize(o));
    this.lastChangeAt = performance.now();
    return resourceVersion;
  }
}

/** Resolves true once `check` holds (checked every 100 ms), false when `ms` pass first. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}
