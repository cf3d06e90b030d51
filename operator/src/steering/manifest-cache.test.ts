import { describe, expect, it } from "vitest";
import { ManifestCache } from "./manifest-cache.js";

describe("ManifestCache", () => {
  const body = (s: string) => Buffer.from(s);
  it.each([
    { name: "hit in the same generation", setGen: 1, getGen: 1, want: "m" },
    { name: "miss after a new generation", setGen: 1, getGen: 2, want: undefined },
  ])("$name", ({ setGen, getGen, want }) => {
    const c = new ManifestCache(10);
    c.set(setGen, "k", body("m"));
    expect(c.get(getGen, "k")?.toString()).toBe(want);
  });

  it("starts over when full", () => {
    const c = new ManifestCache(2);
    c.set(1, "a", body("a"));
    c.set(1, "b", body("b"));
    c.set(1, "c", body("c"));
    expect([c.get(1, "a"), c.get(1, "b"), c.get(1, "c")?.toString()]).toEqual([undefined, undefined, "c"]);
  });
});
