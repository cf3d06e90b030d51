import { describe, expect, it } from "vitest";
import {
  BOLA_MINIMUM_BUFFER_S,
  type BolaState,
  bolaAbandon,
  bolaMinBufferFor,
  bolaParams,
  bolaQuality,
  bolaRule,
  makeBolaRule,
} from "./bola.js";
import { at, cbr, input, LADDER } from "./testing.js";

const params = bolaParams(LADDER);
if (params === undefined) throw new Error("five renditions give parameters");
const steady = (placeholderS = 0): BolaState => ({ phase: "steady", placeholderS, params });

describe("BOLA parameters", () => {
  it("target buffer: 10 s + 2 s per rendition", () => expect(params.targetS).toBe(20));
  it.each([
    { name: "empty buffer: lowest", q: 0, want: 0 },
    { name: "at the minimum buffer (10 s): lowest", q: BOLA_MINIMUM_BUFFER_S, want: 0 },
    { name: "at the target buffer (20 s): highest", q: 20, want: 4 },
    { name: "beyond the target: highest", q: 40, want: 4 },
  ])("$name", ({ q, want }) => expect(bolaQuality(params, LADDER, q)).toBe(want));

  it("quality never falls as the buffer grows, and each step is at its minimum buffer", () => {
    let prev = 0;
    for (let b = 0; b <= 30; b += 0.25) {
      const q = bolaQuality(params, LADDER, b);
      expect(q).toBeGreaterThanOrEqual(prev);
      prev = q;
    }
    for (let q = 1; q < LADDER.length; q++) {
      const b = bolaMinBufferFor(params, LADDER, q);
      expect(bolaQuality(params, LADDER, b + 1e-9)).toBeGreaterThanOrEqual(q);
      expect(bolaQuality(params, LADDER, b - 1e-6)).toBeLessThan(q);
    }
  });

  it("a single rendition: always it", () => {
    const one = [{ bitrateBps: 1e6 }];
    expect(bolaRule.decide(input({ ladder: one, bufferS: 30 }), bolaRule.initial(one))[0].quality).toBe(0);
  });
});

describe("BOLA startup and its placeholder", () => {
  const start = bolaRule.initial(LADDER);
  it("nothing measured: lowest", () => expect(bolaRule.decide(input(), start)[0].quality).toBe(0));

  it("by throughput (× 0.9) while the buffer holds less than two chunks", () => {
    const [d, s] = bolaRule.decide(input({ bufferS: 7.9, history: [at(4e6)] }), start);
    expect(d.quality).toBe(3);
    expect(s.phase).toBe("startup");
  });

  it("leaving startup: the placeholder lifts the buffer to where BOLA picks the same rendition", () => {
    const [d, s] = bolaRule.decide(input({ bufferS: 8, history: [at(4e6)] }), start);
    expect(d.quality).toBe(3);
    expect(s.phase).toBe("steady");
    expect(s.placeholderS).toBeCloseTo(bolaMinBufferFor(params, LADDER, 3) - 8, 9);
    // The next decision, a moment later with the same buffer: BOLA keeps rendition 3 thanks to the placeholder.
    const [next] = bolaRule.decide(input({ bufferS: 8, history: [at(4e6, 3)], idleS: 0.01 }), s);
    expect(next.quality).toBe(3);
  });
});

describe("BOLA steady state", () => {
  const fast = [at(50e6, 4)];
  it("waiting grows the placeholder; a rebuffer drops it", () => {
    expect(bolaRule.decide(input({ bufferS: 12, history: fast, idleS: 3 }), steady(2))[1].placeholderS).toBeGreaterThan(
      0,
    );
    const [d, s] = bolaRule.decide(input({ bufferS: 0, history: fast, rebuffered: true }), steady(30));
    expect(s.placeholderS).toBe(0);
    expect(d.quality).toBe(0);
  });

  it("placeholder counts as buffer: 5 s real + 15 s placeholder picks as 20 s would (bounded by the safe bitrate)", () => {
    const [d] = bolaRule.decide(input({ bufferS: 5, history: fast }), steady(15));
    expect(d.quality).toBe(4);
  });

  it("safe bitrate: with 1 s of buffer at 5 Mbit/s no chunk above 625 kbit/s", () =>
    expect(bolaRule.decide(input({ bufferS: 1, history: [at(5e6, 4)] }), steady(30))[0].quality).toBe(0));

  it("oscillation guard: a step up is capped at what the throughput sustains, never below the last", () => {
    const [d] = bolaRule.decide(input({ bufferS: 25, history: [at(2e6, 1)] }), steady());
    expect(d.quality).toBe(2);
    const [held] = bolaRule.decide(input({ bufferS: 25, history: [at(1e6, 3)] }), steady());
    expect(held.quality).toBe(3);
  });

  it("capped below its score: waits off the surplus, placeholder first", () => {
    const [d, s] = bolaRule.decide(input({ bufferS: 25, history: [at(2e6, 1)] }), steady(3));
    const level = params.vp * ((params.utilities[2] ?? 0) + params.gp);
    expect(s.placeholderS).toBe(0);
    expect(d.delayS).toBeCloseTo(25 + 3 - level - 3, 6);
  });

  it("at the top rendition it never waits (the player's max buffer does)", () =>
    expect(bolaRule.decide(input({ bufferS: 40, history: fast }), steady())[0]).toEqual({ quality: 4, delayS: 0 }));
});

describe("makeBolaRule", () => {
  it("a larger stable buffer raises the target; dash.js's default keeps the name bola", () => {
    expect(bolaParams(LADDER, 60)?.targetS).toBe(60);
    expect(bolaRule.name).toBe("bola");
    expect(makeBolaRule(60).name).toBe("bola-60s");
    expect(bolaQuality(bolaParams(LADDER, 60) ?? params, LADDER, 30)).toBeLessThan(4);
  });
});

describe("BOLA abandonment", () => {
  const downloading = (o: { quality: number; loaded: number; bufferS: number; elapsedS?: number }) => ({
    bufferS: o.bufferS,
    ladder: LADDER,
    quality: o.quality,
    bytesLoaded: o.loaded * cbr(o.quality),
    bytesTotal: cbr(o.quality),
    elapsedS: o.elapsedS ?? 2,
    chunkSeconds: 4,
    chunkBytes: cbr,
  });
  it.each([
    { name: "buffer at the target, a third in: go on", d: { quality: 4, loaded: 1 / 3, bufferS: 20 }, want: undefined },
    {
      name: "the buffer drained to its minimum a third in: the lowest rendition",
      d: { quality: 4, loaded: 1 / 3, bufferS: 10 },
      want: 0,
    },
    {
      name: "half-way down to the minimum: a middle rendition, still worth more than the rest",
      d: { quality: 4, loaded: 0.1, bufferS: 15 },
      want: 2,
    },
    {
      name: "the buffer drained but 95 % in: finish it",
      d: { quality: 4, loaded: 0.95, bufferS: 10 },
      want: undefined,
    },
    { name: "already the lowest: nothing lower", d: { quality: 0, loaded: 0.1, bufferS: 1 }, want: undefined },
    {
      name: "too early to judge (0.3 s in)",
      d: { quality: 4, loaded: 0.01, bufferS: 10, elapsedS: 0.3 },
      want: undefined,
    },
    {
      name: "buffer above this rendition's level: there is time",
      d: { quality: 1, loaded: 0.1, bufferS: 40 },
      want: undefined,
    },
  ])("$name", ({ d, want }) => expect(bolaAbandon(downloading(d), steady())).toBe(want));

  it("not in startup (the throughput picks renditions there)", () =>
    expect(bolaAbandon(downloading({ quality: 4, loaded: 0.1, bufferS: 1 }), { ...steady(), phase: "startup" })).toBe(
      undefined,
    ));

  it("the placeholder counts as buffer, as in decide", () => {
    const d = downloading({ quality: 4, loaded: 1 / 3, bufferS: 10 });
    expect(bolaAbandon(d, steady())).toBe(0);
    expect(bolaAbandon(d, steady(10))).toBeUndefined();
  });
});
