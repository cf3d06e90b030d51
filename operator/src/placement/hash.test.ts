import { describe, expect, it } from "vitest";
import { keyPosition, replicaPosition, serverSeed, tokenPosition } from "./hash.js";

describe("keyPosition", () => {
  // Golden values: the edge agent and the operator run on different machines and must agree.
  it("pins known outputs", () => {
    expect([keyPosition("a"), keyPosition("ab"), keyPosition("abc"), keyPosition("é/ü")]).toMatchInlineSnapshot(`
      [
        312994120081048,
        1463088676451998,
        2212658369313600,
        1606294104819505,
      ]
    `);
  });

  it("spreads keys evenly over [0, 2^52)", () => {
    const buckets = new Array<number>(64).fill(0);
    const n = 64_000;
    let inRange = 0;
    for (let i = 0; i < n; i++) {
      const p = keyPosition(`t${i}/hevc_720p_1645k.mp4`);
      if (Number.isSafeInteger(p) && p >= 0 && p < 2 ** 52) inRange++;
      buckets[Math.floor(p / 2 ** 46)] = (buckets[Math.floor(p / 2 ** 46)] ?? 0) + 1;
    }
    expect(inRange).toBe(n);
    // χ² with 63 degrees of freedom: 110 is beyond the 99.99th percentile of a uniform hash.
    const chi = buckets.reduce((s, b) => s + (b - n / 64) ** 2 / (n / 64), 0);
    expect(chi).toBeLessThan(110);
  });

  it("distinguishes keys that differ in one character or in length", () => {
    expect(keyPosition("abcd")).not.toBe(keyPosition("abce"));
    expect(keyPosition("ab")).not.toBe(keyPosition("ab\u0000"));
  });
});

describe("tokens and replicas", () => {
  it("derives tokens from the server name only", () => {
    const a = serverSeed("flash-001");
    expect(tokenPosition(a, 7)).toBe(tokenPosition(serverSeed("flash-001"), 7));
    expect(tokenPosition(a, 7)).not.toBe(tokenPosition(a, 8));
    expect(tokenPosition(a, 7)).not.toBe(tokenPosition(serverSeed("flash-002"), 7));
  });

  it("gives each replica its own position", () => {
    const p = keyPosition("hot");
    const seen = new Set([p, replicaPosition(p, 1), replicaPosition(p, 2), replicaPosition(p, 3)]);
    expect(seen.size).toBe(4);
  });
});
