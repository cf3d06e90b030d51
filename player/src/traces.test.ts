import { describe, expect, it } from "vitest";
import { fixedTraces, MARKOV_LEVELS, markovTrace, traceSet, traceStats } from "./traces.js";

describe("markovTrace", () => {
  it("is reproducible from its seed, and seeds differ", () => {
    expect(markovTrace(7, 600)).toEqual(markovTrace(7, 600));
    expect(markovTrace(8, 600)).not.toEqual(markovTrace(7, 600));
  });

  it("covers the asked length; rates stay in 0.3–20 Mbit/s (± the wobble) or are outages", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const t = markovTrace(seed, 600);
      expect(traceStats(t).seconds).toBeGreaterThanOrEqual(600);
      for (const s of t.segments) {
        if (s.bps === 0) expect(s.seconds).toBeLessThanOrEqual(10);
        else {
          expect(s.bps).toBeGreaterThan(MARKOV_LEVELS[0] / 2);
          expect(s.bps).toBeLessThan(MARKOV_LEVELS[7] * 2);
        }
      }
    }
  });

  it("over 200 traces: outages happen, and mean rates spread over the range", () => {
    const stats = Array.from({ length: 200 }, (_, i) => traceStats(markovTrace(i + 1, 600)));
    expect(stats.filter((s) => s.outageSeconds > 0).length).toBeGreaterThan(100);
    const means = stats.map((s) => s.meanBps).sort((a, b) => a - b);
    expect(means[10]).toBeLessThan(2e6);
    expect(means[190]).toBeGreaterThan(8e6);
  });
});

describe("fixed shapes", () => {
  it.each(fixedTraces(600).map((t) => ({ name: t.name, t })))("$name lasts the asked length", ({ t }) =>
    expect(traceStats(t).seconds).toBe(600),
  );
  it("the set starts with the fixed shapes and has the asked size", () => {
    const s = traceSet(200, 600);
    expect(s).toHaveLength(200);
    expect(s.slice(0, 4).map((t) => t.name)).toEqual(["flat-5mbit", "step-down", "cliff", "sawtooth"]);
  });
});
