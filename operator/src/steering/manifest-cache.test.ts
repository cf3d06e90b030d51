import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD_BYTES, ManifestCache, ownBuffer } from "./manifest-cache.js";

/** What an entry of a one-character key and a body of `n` bytes costs. */
const cost = (n: number) => n + 1 + ENTRY_OVERHEAD_BYTES;
const body = (n: number, fill = "m") => ownBuffer(fill.repeat(n));

describe("ManifestCache", () => {
  it.each([
    { name: "hit in the same generation", setGen: 1, getGen: 1, want: "m" },
    { name: "miss after a new generation", setGen: 1, getGen: 2, want: undefined },
  ])("$name", ({ setGen, getGen, want }) => {
    const c = new ManifestCache(cost(1));
    c.set(setGen, "k", body(1));
    expect(c.get(getGen, "k")?.toString()).toBe(want);
  });

  it("charges each entry its body, key and overhead, and evicts the least recently used to fit", () => {
    const c = new ManifestCache(cost(100) * 2);
    c.set(1, "a", body(100));
    c.set(1, "b", body(100));
    expect(c.bytes).toBe(cost(100) * 2);
    c.get(1, "a"); // a is now the most recently used
    c.set(1, "c", body(100));
    expect([c.get(1, "a")?.length, c.get(1, "b"), c.get(1, "c")?.length]).toEqual([100, undefined, 100]);
    expect(c.bytes).toBe(cost(100) * 2);
  });

  it("evicts as many as a large entry needs, and never holds more than its bound", () => {
    const max = cost(100) * 3;
    const c = new ManifestCache(max);
    for (const k of ["a", "b", "c"]) c.set(1, k, body(100));
    c.set(1, "d", body(250));
    expect([c.get(1, "a"), c.get(1, "b"), c.get(1, "c")?.length, c.get(1, "d")?.length]).toEqual([
      undefined,
      undefined,
      100,
      250,
    ]);
    expect(c.bytes).toBeLessThanOrEqual(max);
  });

  it("does not keep an entry larger than the whole bound, nor anything with a bound of 0", () => {
    const c = new ManifestCache(cost(10));
    c.set(1, "a", body(10));
    c.set(1, "b", body(11));
    expect([c.get(1, "a")?.length, c.get(1, "b")]).toEqual([10, undefined]);
    const off = new ManifestCache(0);
    off.set(1, "a", body(1));
    expect([off.get(1, "a"), off.bytes, off.entries]).toEqual([undefined, 0, 0]);
  });

  it("replacing a key charges it once, and a new generation empties the accounting", () => {
    const c = new ManifestCache(10_000);
    c.set(1, "a", body(10));
    c.set(1, "a", body(20));
    expect([c.entries, c.bytes]).toEqual([1, cost(20)]);
    c.set(2, "b", body(5));
    expect([c.entries, c.bytes]).toEqual([1, cost(5)]);
  });

  it("ownBuffer is not a slice of the shared pool", () => {
    const b = ownBuffer("short");
    expect([b.toString(), b.byteOffset, b.buffer.byteLength]).toEqual(["short", 0, 5]);
  });
});
