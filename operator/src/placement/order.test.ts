import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gather, positionOrder } from "./order.js";

describe("positionOrder", () => {
  it("sorts ring positions ascending, ties by index, like a stable comparator sort", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 52 - 1 }), { maxLength: 3000 }), fc.boolean(), (xs, dup) => {
        // Duplicates exercise the tie rule.
        const values = dup ? [...xs, ...xs.slice(0, 50)] : xs;
        const positions = Float64Array.from(values);
        const want = values.map((_, i) => i).sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0) || a - b);
        expect(Array.from(positionOrder(positions))).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it("rejects a position outside the ring", () => {
    expect(() => positionOrder(Float64Array.of(1, 2 ** 52))).toThrow(/outside \[0, 2\^52\)/);
    expect(() => positionOrder(Float64Array.of(Number.NaN))).toThrow(RangeError);
  });

  it("gathers values in order", () => {
    expect(Array.from(gather(Float64Array.of(10, 20, 30), Uint32Array.of(2, 0, 1)))).toEqual([30, 10, 20]);
  });
});
