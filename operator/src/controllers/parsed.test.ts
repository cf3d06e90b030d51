import { describe, expect, it } from "vitest";
import { loadSamples } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { ParsedCache } from "./parsed.js";

const titles = loadSamples()
  .filter((s) => s.object.kind === "Title")
  .map(
    (s, i) =>
      ({
        ...s.object,
        metadata: { ...s.object.metadata, namespace: "ns", resourceVersion: String(i + 1) },
      }) as unknown as KubeObject,
  );

describe("ParsedCache", () => {
  it("returns the same parsed object while the resourceVersion is unchanged, and parses again after", () => {
    const c = new ParsedCache("Title");
    const [t] = titles;
    if (!t) throw new Error("no sample titles");
    const a = c.get(t);
    expect(a).toBeDefined();
    expect(c.get({ ...t })).toBe(a);
    expect(c.get({ ...t, metadata: { ...t.metadata, resourceVersion: "999" } })).not.toBe(a);
  });

  it("skips invalid objects and filters by namespace", () => {
    const c = new ParsedCache("Title");
    const bad = {
      ...titles[0],
      metadata: { name: "bad", namespace: "ns", resourceVersion: "7" },
      spec: { id: "Bad!" },
    } as KubeObject;
    const other = {
      ...titles[1],
      metadata: { ...titles[1]?.metadata, name: "elsewhere", namespace: "other" },
    } as KubeObject;
    expect(c.all([...titles, bad, other], "ns")).toHaveLength(titles.length);
  });
});
