import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyPosition } from "./hash.js";
import { Ring } from "./ring.js";

const names = ["a", "b", "c", "d", "e"];
const keys = Array.from({ length: 3000 }, (_, i) => keyPosition(`k${i}`));

function owners(ring: Ring): string[] {
  return keys.map((p) => names[ring.lookup(p)] ?? "none");
}

describe("Ring", () => {
  it.each([
    { name: "no tokens at all", tokens: [0, 0, 0, 0, 0], want: -1 },
    { name: "one server with tokens", tokens: [0, 0, 3, 0, 0], want: 2 },
  ])("$name → owner $want", ({ tokens, want }) => {
    expect(Ring.build(names, tokens).lookup(keyPosition("x"))).toBe(want);
  });

  it("gives each server a share of keys close to its share of tokens", () => {
    const tokens = [100, 200, 300, 400, 0];
    const ring = Ring.build(names, tokens);
    const counts = new Map<string, number>();
    for (const o of owners(ring)) counts.set(o, (counts.get(o) ?? 0) + 1);
    tokens.forEach((t, j) => {
      expect(Math.abs((counts.get(names[j] ?? "") ?? 0) / keys.length - t / 1000)).toBeLessThan(0.05);
    });
  });

  it("a weight change moves keys only to or from that server", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 5, maxLength: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 60 }),
        (tokens, j, w) => {
          fc.pre(tokens.some((t) => t > 0));
          const changed = tokens.map((t, k) => (k === j ? w : t));
          fc.pre(changed.some((t) => t > 0));
          const before = owners(Ring.build(names, tokens));
          const after = owners(Ring.build(names, changed));
          const who = names[j];
          return before.every((o, i) => o === after[i] || o === who || after[i] === who);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("does not depend on the order servers are listed in", () => {
    const tokens = [10, 20, 30, 40, 50];
    const forward = owners(Ring.build(names, tokens));
    const rev = Ring.build([...names].reverse(), [...tokens].reverse());
    const backward = keys.map((p) => [...names].reverse()[rev.lookup(p)] ?? "none");
    expect(backward).toEqual(forward);
  });
});
