import { describe, expect, it } from "vitest";
import { at, input } from "./testing.js";
import { throughputRule } from "./throughput.js";
import { type Download, harmonicThroughput } from "./types.js";

const decide = (history: readonly Download[]) => throughputRule.decide(input({ history }), undefined)[0].quality;

describe("throughput rule", () => {
  it.each([
    { name: "nothing measured: lowest", history: [], want: 0 },
    { name: "10 Mbit/s: top (5.8 ≤ 9)", history: [at(10e6)], want: 4 },
    {
      name: "one slow download of five pulls the harmonic mean down (3.57 → 3.2 Mbit/s)",
      history: [...Array(4).fill(at(10e6)), at(1e6)],
      want: 3,
    },
    { name: "only the last five count", history: [at(0.3e6), ...Array(5).fill(at(10e6))], want: 4 },
    { name: "estimate × 0.9 exactly a bitrate: that rendition", history: [at(3e6 / 0.9)], want: 3 },
    { name: "just below it: the one under", history: [at(3e6 / 0.9 - 1000)], want: 2 },
    { name: "slower than the lowest: lowest", history: [at(100_000)], want: 0 },
  ])("$name", ({ history, want }) => expect(decide(history)).toBe(want));

  it("the harmonic mean weighs slow downloads: 1 and 9 Mbit/s give 1.8", () =>
    expect(harmonicThroughput([at(1e6), at(9e6)], 5)).toBeCloseTo(1.8e6, -3));
});
