import { describe, expect, it } from "vitest";
import { cidrContains, formatCidr, formatIp, InvalidAddressError, parseCidr, parseIp } from "./ip.js";

describe("parseIp", () => {
  it.each([
    { text: "0.0.0.0", words: [0], out: "0.0.0.0" },
    { text: "255.255.255.255", words: [0xffffffff], out: "255.255.255.255" },
    { text: "192.0.2.1", words: [0xc0000201], out: "192.0.2.1" },
    { text: "::", words: [0, 0, 0, 0], out: "::" },
    { text: "::1", words: [0, 0, 0, 1], out: "::1" },
    { text: "2001:db8::", words: [0x20010db8, 0, 0, 0], out: "2001:db8::" },
    { text: "2001:DB8:0:0:1:0:0:1", words: [0x20010db8, 0, 0x10000, 1], out: "2001:db8::1:0:0:1" },
    { text: "1:2:3:4:5:6:7:8", words: [0x10002, 0x30004, 0x50006, 0x70008], out: "1:2:3:4:5:6:7:8" },
    { text: "64:ff9b::192.0.2.1", words: [0x0064ff9b, 0, 0, 0xc0000201], out: "64:ff9b::c000:201" },
    { text: "::ffff:192.0.2.1", words: [0xc0000201], out: "192.0.2.1" },
  ])("$text", ({ text, words, out }) => {
    const a = parseIp(text);
    expect(a.words).toEqual(words);
    expect(formatIp(a)).toBe(out);
  });

  it.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-1",
    " 1.2.3.4",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "fe80::1%eth0",
    "1.2.3.4::",
    "g::1",
    "x".repeat(1000),
  ])("rejects %j and names the field", (text) => {
    expect(() => parseIp(text, "ip")).toThrow(InvalidAddressError);
    expect(() => parseIp(text, "ip")).toThrow(/^ip: /);
  });
});

describe("parseCidr", () => {
  it.each([
    { text: "10.0.0.0/8", out: "10.0.0.0/8" },
    { text: "0.0.0.0/0", out: "0.0.0.0/0" },
    { text: "192.0.2.1/32", out: "192.0.2.1/32" },
    { text: "2001:db8::/32", out: "2001:db8::/32" },
    { text: "::/0", out: "::/0" },
    { text: "2001:db8::1/128", out: "2001:db8::1/128" },
  ])("$text", ({ text, out }) => expect(formatCidr(parseCidr(text))).toBe(out));

  it.each([
    { text: "10.0.0.0", want: /no "\/length"/ },
    { text: "10.0.0.0/33", want: /0\.\.32/ },
    { text: "2001:db8::/129", want: /0\.\.128/ },
    { text: "10.0.0.0/x", want: /must be an integer/ },
    { text: "10.0.0.1/8", want: /bits set after the first 8/ },
    { text: "2001:db8::1/64", want: /bits set after the first 64/ },
  ])("rejects $text", ({ text, want }) => {
    expect(() => parseCidr(text, "prefixes[0].cidr")).toThrow(want);
    expect(() => parseCidr(text, "prefixes[0].cidr")).toThrow(/^prefixes\[0\]\.cidr: /);
  });
});

describe("cidrContains", () => {
  it.each([
    { cidr: "10.0.0.0/8", ip: "10.255.0.1", want: true },
    { cidr: "10.0.0.0/8", ip: "11.0.0.1", want: false },
    { cidr: "0.0.0.0/0", ip: "1.2.3.4", want: true },
    { cidr: "0.0.0.0/0", ip: "::1", want: false },
    { cidr: "2001:db8::/33", ip: "2001:db8:7fff::1", want: true },
    { cidr: "2001:db8::/33", ip: "2001:db8:8000::1", want: false },
  ])("$cidr ∋ $ip is $want", ({ cidr, ip, want }) => expect(cidrContains(parseCidr(cidr), parseIp(ip))).toBe(want));
});
