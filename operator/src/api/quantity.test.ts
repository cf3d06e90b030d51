import { describe, expect, it } from "vitest";
import { formatBitsPerSecond, formatBytes, parseBitsPerSecond, parseBytes, QuantityError } from "./quantity.js";

describe("parseBytes", () => {
  it.each([
    { s: "200Ti", want: 200 * 2 ** 40 },
    { s: "18Ti", want: 18 * 2 ** 40 },
    { s: "30.72Ti", want: Math.floor(30.72 * 2 ** 40) },
    { s: "500G", want: 500e9 },
    { s: "1k", want: 1000 },
    { s: "4096", want: 4096 },
    { s: "1.5", want: 1 },
  ])("$s → $want", ({ s, want }) => expect(parseBytes(s)).toBe(want));

  it.each(["0Ti", "0.5Ti", "-1Ti", "200TiB", "200 Ti", "1.2345Ti", "", "2Ei"])("rejects %j", (s) =>
    expect(() => parseBytes(s)).toThrow(QuantityError),
  );

  it("names the value and the expected form", () => {
    expect(() => parseBytes("200TB")).toThrow(
      /"200TB" is not a byte quantity: expected a positive amount like "200Ti"/,
    );
  });
});

describe("parseBitsPerSecond", () => {
  it.each([
    { s: "40Gbps", want: 40e9 },
    { s: "2.5Gbps", want: 2.5e9 },
    { s: "100Mbps", want: 1e8 },
    { s: "64kbps", want: 64_000 },
    { s: "1Tbps", want: 1e12 },
    { s: "9600bps", want: 9600 },
  ])("$s → $want", ({ s, want }) => expect(parseBitsPerSecond(s)).toBe(want));

  it.each(["40G", "40GB/s", "0Gbps", "40gbps", "40 Gbps", "40Gibps"])("rejects %j", (s) =>
    expect(() => parseBitsPerSecond(s)).toThrow(/is not a bit rate/),
  );
});

describe("formatting quantities", () => {
  it.each([
    { n: 836 * 2 ** 40, want: "836Ti" },
    { n: 1.5 * 2 ** 30, want: "1.5Gi" },
    { n: 512, want: "512" },
  ])("formatBytes($n) = $want and parses back", ({ n, want }) => {
    expect(formatBytes(n)).toBe(want);
    expect(parseBytes(want)).toBe(n);
  });
  it.each([
    { n: 360e9, want: "360Gbps" },
    { n: 1.2e9, want: "1.2Gbps" },
    { n: 800, want: "800bps" },
  ])("formatBitsPerSecond($n) = $want and parses back", ({ n, want }) => {
    expect(formatBitsPerSecond(n)).toBe(want);
    expect(parseBitsPerSecond(want)).toBe(n);
  });
});
