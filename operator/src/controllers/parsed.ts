/**
 * Validated views of informer-cached objects, parsed once per resourceVersion: reconciles read the same
 * thousands of Titles over and over, and a zod parse of each on every reconcile would dominate.
 * Objects that fail validation map to undefined (their own controller reports them).
 */
import { type KindName, type Objects, parseObject } from "../api/index.js";
import { type KubeObject, keyOf } from "../runtime/kube.js";

export class ParsedCache<K extends KindName> {
  readonly #kind: K;
  #memo = new Map<string, { rv: string | undefined; value: Objects[K] | undefined }>();

  constructor(kind: K) {
    this.#kind = kind;
  }

  get(o: KubeObject): Objects[K] | undefined {
    const key = keyOf(o);
    const rv = o.metadata.resourceVersion;
    const hit = this.#memo.get(key);
    if (hit && rv !== undefined && hit.rv === rv) return hit.value;
    const r = parseObject(this.#kind, o);
    const value = r.ok ? r.value : undefined;
    this.#memo.set(key, { rv, value });
    return value;
  }

  /** The valid objects of `list` (in `namespace` when given); forgets objects no longer listed. */
  all(list: readonly KubeObject[], namespace?: string): Objects[K][] {
    const out: Objects[K][] = [];
    const seen = new Set<string>();
    for (const o of list) {
      seen.add(keyOf(o));
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue;
      const v = this.get(o);
      if (v !== undefined) out.push(v);
    }
    if (seen.size < this.#memo.size) for (const k of [...this.#memo.keys()]) if (!seen.has(k)) this.#memo.delete(k);
    return out;
  }
}
