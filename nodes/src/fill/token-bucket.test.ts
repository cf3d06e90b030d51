import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBandwidth, TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("passes the burst at once, then paces at the rate", () => {
    let t = 0;
    const b = new TokenBucket(1000, 1000, () => t);
    expect(b.reserve(1000)).toBe(0);
    expect(b.reserve(500)).toBe(500);
    t = 500;
    expect(b.reserve(500)).toBe(500);
    t = 10_000;
    expect(b.reserve(100)).toBe(0); // refilled, but never above the burst
    expect(b.reserve(1000)).toBeCloseTo(100);
  });

  it("never lets more than burst + rate × t bytes through by time t, for any schedule", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 2000 }), n: fc.integer({ min: 1, max: 5000 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (steps) => {
          const rate = 2000;
          const burst = 1500;
          let t = 0;
          const b = new TokenBucket(rate, burst, () => t);
          let sent = 0;
          for (const { gap, n } of steps) {
            t += gap;
            const sendAt = t + b.reserve(n);
            sent += n;
            expect(sent).toBeLessThanOrEqual(burst + (rate * sendAt) / 1000 + 1e-6);
          }
        },
      ),
    );
  });

  it.each([
    { rate: 0, burst: 1 },
    { rate: 1, burst: 0 },
  ])("rejects rate $rate, burst $burst", ({ rate, burst }) =>
    expect(() => new TokenBucket(rate, burst)).toThrow(RangeError),
  );
});

describe("parseBandwidth", () => {
  it.each([
    { v: "1.2Gbps", want: 150e6 },
    { v: "800Mbps", want: 100e6 },
    { v: "10Gbit", want: 1.25e9 },
    { v: "500kbps", want: 62_500 },
    { v: 8e6, want: 1e6 },
  ])("$v → $want B/s", ({ v, want }) => expect(parseBandwidth(v)).toBeCloseTo(want));

  it.each(["fast", "1.2GB/s", "-5Mbps", "0Mbps", 0, -1])("rejects %s", (v) =>
    expect(() => parseBandwidth(v)).toThrow(/bandwidth/),
  );
});
