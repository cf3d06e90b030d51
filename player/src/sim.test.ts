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
  it("bytesBetween integrates the rates, across segments and outages", () => {
    expect(link.bytesBetween(9, 16)).toBeCloseTo(1e6 + 0.125e6, 6);
    expect(link.bytesBetween(10, 15)).toBe(0);
  });
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

  it("BOLA under a cliff (20 → 0.3 Mbit/s): the slowed top-rendition download is abandoned for a lower one on the same server; fewer stalls than without", async () => {
    const rule = abrRule("bola");
    if (!rule) throw new Error("bola rule");
    const cliff = trace([
      { seconds: 40, bps: 20e6 },
      { seconds: 200, bps: 0.3e6 },
    ]);
    const r = await simulate(content, rule, cliff, { maxBufferS: 60 });
    const never = {
      ...rule,
      start: (l: Parameters<typeof rule.start>[0]) => ({ ...rule.start(l), abandon: () => undefined }),
    };
    const without = await simulate(content, never, cliff, { maxBufferS: 60 });
    expect(r.done).toBe(true);
    expect(r.abandoned).toBeGreaterThan(0);
    expect(r.failovers).toBe(0);
    expect(without.abandoned).toBe(0);
    expect(r.rebufferS).toBeLessThan(without.rebufferS);
  });

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
