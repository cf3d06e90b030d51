import { describe, expect, it } from "vitest";
import { BBA_UPPER_SHARE, bbaChunkMap, bbaReservoir, bbaRule } from "./bba.js";
import { at, cbr, input, LADDER } from "./testing.js";
import type { AbrInput } from "./types.js";

/** The buffer at which f(B) is `bytes` with the CBR ladder (reservoir 8 s, upper 54 s). */
const bufferFor = (bytes: number) => 8 + ((bytes - cbr(0)) / (cbr(4) - cbr(0))) * (54 - 8);
const decide = (over: Partial<AbrInput>) => bbaRule.decide(input(over), undefined)[0].quality;
const prevAt = (q: number) => [at(5e6, q)];

describe("BBA-1 reservoir", () => {
  it.each([
    { name: "CBR chunks drain nothing: the floor, 2 chunks", sizes: () => cbr(0), want: 8 },
    { name: "5 chunks twice the mean: 5 × 4 s", sizes: (_: number, k: number) => (k < 5 ? 2 : 1) * cbr(0), want: 20 },
    {
      name: "a long heavy scene: capped at 40 % of the buffer",
      sizes: (_: number, k: number) => (k < 10 ? 3 : 1) * cbr(0),
      want: 24,
    },
    { name: "light chunks never go under the floor", sizes: () => cbr(0) / 2, want: 8 },
  ])("$name", ({ sizes, want }) => expect(bbaReservoir(input({ chunkBytes: sizes }))).toBeCloseTo(want, 6));

  it("looks only 2 × max buffer ahead (30 chunks)", () => {
    const late = (_: number, k: number) => (k >= 30 ? 10 : 1) * cbr(0);
    expect(bbaReservoir(input({ chunkBytes: late }))).toBe(8);
  });
});

describe("BBA-1 decisions at the boundaries", () => {
  it.each([
    { name: "empty buffer: lowest", bufferS: 0, history: prevAt(3), want: 0 },
    { name: "at the reservoir: lowest, whatever came before", bufferS: 8, history: prevAt(4), want: 0 },
    {
      name: "just above the reservoir, from the lowest: stays (f(B) below Rate+)",
      bufferS: 8.01,
      history: prevAt(0),
      want: 0,
    },
    {
      name: "at the top of the cushion (90 % of max): highest",
      bufferS: BBA_UPPER_SHARE * 60,
      history: prevAt(0),
      want: 4,
    },
    {
      name: "just under it, from the lowest: the highest whose chunk is below f(B)",
      bufferS: 53.99,
      history: prevAt(0),
      want: 3,
    },
    {
      name: "mid-cushion, f(B) = 1 MB, from 2: Rate+ (1.5 MB) and Rate− (375 kB) both miss: stays",
      bufferS: bufferFor(1e6),
      history: prevAt(2),
      want: 2,
    },
    {
      name: "same buffer from 0: up to the highest chunk under 1 MB",
      bufferS: bufferFor(1e6),
      history: prevAt(0),
      want: 2,
    },
    {
      name: "same buffer from 4: down to the lowest chunk above 1 MB",
      bufferS: bufferFor(1e6),
      history: prevAt(4),
      want: 3,
    },
  ])("$name", ({ bufferS, history, want }) => expect(decide({ bufferS, history })).toBe(want));

  it("chunk map: a complex scene makes rendition 2's next chunk 1.2 MB; at f(B) = 1 MB it is not taken", () => {
    const heavy = (q: number) => (q === 2 ? 1.2e6 : cbr(q));
    expect(decide({ bufferS: bufferFor(1e6), history: prevAt(1), chunkBytes: heavy })).toBe(1);
    expect(decide({ bufferS: bufferFor(1e6), history: prevAt(1) })).toBe(2);
  });

  it("f(B) rises linearly through the cushion", () => {
    const i = input({ bufferS: 31 });
    expect(bbaChunkMap(i, 8)).toBeCloseTo((cbr(0) + cbr(4)) / 2, 0);
    expect(bbaChunkMap(input({ bufferS: 100 }), 8)).toBe(cbr(LADDER.length - 1));
  });
});
