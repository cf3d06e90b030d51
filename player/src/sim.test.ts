import { describe, expect, it } from "vitest";
import { ABR_RULES, abrRule } from "./abr/index.js";
import { syntheticContent } from "./content.js";
import { simulate, TraceLink } from "./sim.js";
import type { Trace } from "./traces.js";

const trace = (segments: Trace["segments"], rttMs = 40): Trace => ({ name: "t", rttMs, segments });

describe("TraceLink", () => {
  const link = new TraceLink(
    trace([
      { seconds: 10, bps: 8e6 },
      { seconds: 5, bps: 0 },
      { seconds: 10, bps: 1e6 },
    ]),
  );
  it.each([
    { name: "within a segment", from: 0, bytes: 1e6, stallS: 3, want: { at: 1, ok: true } },
    { name: "across a boundary", from: 9, bytes: 1.125e6, stallS: 6, want: { at: 16, ok: true } },
    {
      name: "an outage longer than the stall deadline",
      from: 9,
      bytes: 1.125e6,
      stallS: 3,
      want: { at: 13, ok: false },
    },
    { name: "the trace repeats", from: 25, bytes: 1e6, stallS: 3, want: { at: 26, ok: true } },
  ])("$name", ({ from, bytes, stallS, want }) => expect(link.transfer(from, bytes, stallS)).toEqual(want));
});

describe("simulate", () => {
  const content = syntheticContent("sim-title", 120);
  it.each(ABR_RULES.map((r) => ({ name: r.name, rule: r })))(
    "$name on a steady 20 Mbit/s link: starts within one chunk's download, never stalls, plays it all",
    async ({ rule }) => {
      const r = await simulate(content, rule, trace([{ seconds: 120, bps: 20e6 }]), { maxBufferS: 60 });
      expect(r.done).toBe(true);
      expect(r.rebufferS).toBe(0);
      expect(r.playedS).toBeCloseTo(120, 6);
      expect(r.startupS).toBeLessThan(0.3);
      expect(r.failovers).toBe(0);
    },
  );

  it("a 20 s outage with a small buffer: the download is given up (failover), playback stalls, then completes", async () => {
    const rule = abrRule("throughput");
    if (!rule) throw new Error("throughput rule");
    const r = await simulate(
      content,
      rule,
      trace([
        { seconds: 30, bps: 1e6 },
        { seconds: 20, bps: 0 },
        { seconds: 200, bps: 1e6 },
      ]),
      { maxBufferS: 8 },
    );
    expect(r.done).toBe(true);
    expect(r.failovers).toBeGreaterThan(0);
    expect(r.rebufferS).toBeGreaterThan(10);
    expect(r.failures[0]).toMatch(/^stall: no byte for/);
  });
});
