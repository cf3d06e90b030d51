import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseWith, type TypedKind } from "../api/index.js";
import type { KubeObject } from "./kube.js";
import { type Entry, Store } from "./store.js";

const Thing = z.looseObject({ metadata: z.looseObject({ name: z.string() }), spec: z.object({ n: z.int() }) });
const ThingKind: TypedKind<z.infer<typeof Thing>> = {
  group: "test.dev",
  version: "v1",
  kind: "Thing",
  plural: "things",
  namespaced: true,
  parse: (o) => parseWith(Thing, o),
};
const thing = (name: string, rv: string, generation: number, n: unknown = 1, ns = "ns"): KubeObject => ({
  apiVersion: "test.dev/v1",
  kind: "Thing",
  metadata: { name, namespace: ns, resourceVersion: rv, generation },
  spec: { n },
});

function recorded<T>(s: Store<T>) {
  const all: string[] = [];
  const spec: string[] = [];
  s.onChange((k) => all.push(k));
  s.onSpecChange((k) => spec.push(k));
  return { all, spec };
}

describe("Store", () => {
  it("validates each object once, on arrival: a typed value, or the errors naming the field", () => {
    let parses = 0;
    const parse = (o: unknown) => {
      parses++;
      return ThingKind.parse(o);
    };
    const s = new Store({ ...ThingKind, parse });
    s.upsert(thing("a", "1", 1));
    s.upsert(thing("b", "2", 1, "x"));
    expect(s.get("ns/a")?.value?.spec.n).toBe(1);
    expect(s.get("ns/b")?.value).toBeUndefined();
    expect(s.get("ns/b")?.errors.map((e) => e.path)).toEqual(["spec.n"]);
    expect(s.list().map((t) => t.metadata.name)).toEqual(["a"]);
    expect(s.entries().map((e) => e.key)).toEqual(["ns/a", "ns/b"]);
    s.list();
    s.get("ns/a");
    expect(parses).toBe(2);
  });

  it("lists by namespace", () => {
    const s = new Store(ThingKind);
    s.upsert(thing("a", "1", 1));
    s.upsert(thing("a", "2", 1, 1, "other"));
    expect(s.list("other").map((t) => t.metadata.namespace)).toEqual(["other"]);
    expect(s.entries("ns").map((e) => e.key)).toEqual(["ns/a"]);
  });

  it("tells spec handlers of adds, generation moves and deletes only; every handler of every change", () => {
    const s = new Store(ThingKind);
    const r = recorded(s);
    s.upsert(thing("a", "1", 1)); // add
    s.upsert(thing("a", "2", 1)); // status write: same generation
    s.upsert(thing("a", "3", 2)); // spec change
    s.remove(thing("a", "4", 2)); // delete
    expect(r.all).toEqual(["ns/a", "ns/a", "ns/a", "ns/a"]);
    expect(r.spec).toEqual(["ns/a", "ns/a", "ns/a"]);
  });

  it("hands a deletion's handlers the entry as last seen", () => {
    const s = new Store(ThingKind);
    s.upsert(thing("a", "1", 1, 7));
    const got: Entry<unknown>[] = [];
    s.onChange((_k, e) => got.push(e));
    s.remove(thing("a", "2", 1));
    expect(s.get("ns/a")).toBeUndefined();
    expect(got[0]?.object.spec).toEqual({ n: 7 });
  });

  it("moves specRevision with spec changes only, to the resourceVersion that made them", () => {
    const s = new Store(ThingKind);
    s.upsert(thing("a", "5", 1));
    expect(s.specRevision()).toBe("5");
    s.upsert(thing("a", "6", 1));
    expect(s.specRevision()).toBe("5");
    s.upsert(thing("a", "7", 2));
    expect(s.specRevision()).toBe("7");
    s.remove(thing("a", "9", 2));
    expect(s.specRevision()).toBe("9");
  });

  it("on a relist reports what changed and what is gone, and keeps the arrival time of what did not change", () => {
    let t = 1000;
    const s = new Store(ThingKind, { now: () => t });
    s.upsert(thing("a", "1", 1));
    s.upsert(thing("b", "2", 1));
    s.upsert(thing("c", "3", 1));
    const r = recorded(s);
    t = 2000;
    s.replace([thing("a", "1", 1), thing("b", "8", 2)], "9");
    expect(r.all.sort()).toEqual(["ns/b", "ns/c"]);
    expect(s.get("ns/a")?.observedAt).toBe(1000);
    expect(s.get("ns/b")?.observedAt).toBe(2000);
    expect(s.get("ns/c")).toBeUndefined();
    expect(s.specRevision()).toBe("9");
  });
});
