/** Counting the operator's API requests by Kubernetes verb and by resource, as client-go's rest_client_requests_total does. */
import type { RequestObserver } from "../../operator/src/runtime/kube.js";

/** The verb and resource[/subresource] of a request, from its method and REST path. */
export function classify(r: Parameters<RequestObserver>[0]): { verb: string; resource: string } {
  const segs = r.path.split("/").filter(Boolean);
  let rest = segs.slice(segs[0] === "api" ? 2 : 3); // past /api/v1 or /apis/<group>/<version>
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [plural = "?", name, sub] = rest;
  const resource = sub ? `${plural}/${sub}` : plural;
  const verb =
    r.method === "GET"
      ? r.watch
        ? "watch"
        : name === undefined
          ? "list"
          : "get"
      : (({ POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" } as Record<string, string>)[r.method] ??
        r.method.toLowerCase());
  return { verb, resource };
}

export class RequestCounter {
  #byVerb = new Map<string, number>();
  #byResource = new Map<string, number>();
  #errors = 0;
  #total = 0;

  readonly observe: RequestObserver = (r) => {
    const { verb, resource } = classify(r);
    this.#total++;
    if (r.status === 0 || r.status >= 400) this.#errors++;
    this.#byVerb.set(verb, (this.#byVerb.get(verb) ?? 0) + 1);
    const k = `${verb} ${resource}`;
    this.#byResource.set(k, (this.#byResource.get(k) ?? 0) + 1);
  };

  snapshot(): Counts {
    return {
      total: this.#total,
      errors: this.#errors,
      byVerb: Object.fromEntries(this.#byVerb),
      byResource: Object.fromEntries(this.#byResource),
    };
  }
}

export type Counts = Readonly<{
  total: number;
  errors: number;
  byVerb: Record<string, number>;
  byResource: Record<string, number>;
}>;

/** What was counted between two snapshots. */
export function since(before: Counts, after: Counts): Counts {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(b)
        .map(([k, v]) => [k, v - (a[k] ?? 0)] as const)
        .filter(([, v]) => v > 0)
        .sort((x, y) => y[1] - x[1]),
    );
  return {
    total: after.total - before.total,
    errors: after.errors - before.errors,
    byVerb: diff(before.byVerb, after.byVerb),
    byResource: diff(before.byResource, after.byResource),
  };
}
