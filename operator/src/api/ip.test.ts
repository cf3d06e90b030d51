import { describe, expect, it } from "vitest";
import { isMasked, parseCIDR, parseIP } from "./ip.js";

describe("parseIP", () => {
  it.each([
    { s: "198.51.100.7", want: { family: 4, value: 0xc6336407n } },
    { s: "0.0.0.0", want: { family: 4, value: 0n } },
    { s: "2001:db8::7", want: { family: 6, value: (0x20010db8n << 96n) | 7n } },
    { s: "::", want: { family: 6, value: 0n } },
    { s: "::1", want: { family: 6, value: 1n } },
    { s: "2001:DB8:0:0:0:0:0:1", want: { family: 6, value: (0x20010db8n << 96n) | 1n } },
    { s: "64:ff9b::192.0.2.33", want: { family: 6, value: (0x64ff9bn << 96n) | 0xc0000221n } },
  ])("$s", ({ s, want }) => expect(parseIP(s)).toEqual(want));

  it.each([
    ["256.1.1.1", "octet > 255"],
    ["1.2.3", "three octets"],
    ["01.2.3.4", "leading zero (Go's netip rejects it)"],
    ["1.2.3.4 ", "trailing space"],
    ["2001:db8::g", "bad hex"],
    ["1::2::3", "two ::"],
    ["1:2:3:4:5:6:7:8:9", "nine groups"],
    ["1:2:3:4:5:6:7", "seven groups, no ::"],
    ["1:2:3:4:5:6:7::8", ":: standing for no group"],
    ["fe80::1%eth0", "zone"],
    ["::ffff:192.0.2.1", "IPv4-mapped"],
    ["", "empty"],
  ])("rejects %s (%s)", (s) => expect(parseIP(s)).toBeUndefined());
});

describe("parseCIDR and isMasked", () => {
  it.each([
    { s: "100.64.0.0/10", masked: true },
    { s: "100.64.0.1/10", masked: false },
    { s: "0.0.0.0/0", masked: true },
    { s: "2001:db8:4400::/40", masked: true },
    { s: "2001:db8:4401::/40", masked: false },
    { s: "2001:db8::1/128", masked: true },
  ])("$s masked=$masked", ({ s, masked }) => {
    const c = parseCIDR(s);
    expect(c).toBeDefined();
    if (c) expect(isMasked(c)).toBe(masked);
  });

  it.each(["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "10.0.0.0/08", "::/129", "::ffff:10.0.0.0/104"])("rejects %s", (s) =>
    expect(parseCIDR(s)).toBeUndefined(),
  );
});
