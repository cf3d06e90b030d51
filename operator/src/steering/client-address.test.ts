import { describe, expect, it } from "vitest";
import { clientAddress, clientNet, TrustedProxies } from "./client-address.js";
import { formatIp, InvalidAddressError, parseIp } from "./ip.js";

const trusted = new TrustedProxies(["10.0.0.0/8", "2001:db8:ffff::/48"]);

describe("clientAddress", () => {
  it.each([
    { name: "socket peer, no header", peer: "198.51.100.7", xff: undefined, want: "198.51.100.7" },
    { name: "IPv4-mapped socket peer", peer: "::ffff:198.51.100.7", xff: undefined, want: "198.51.100.7" },
    { name: "IPv6 socket peer", peer: "2001:db8::7", xff: undefined, want: "2001:db8::7" },
    {
      name: "header from an untrusted peer is ignored",
      peer: "198.51.100.7",
      xff: "203.0.113.9",
      want: "198.51.100.7",
    },
    { name: "trusted proxy: last hop", peer: "10.1.1.1", xff: "203.0.113.9", want: "203.0.113.9" },
    {
      name: "client-supplied leftmost entry is not believed",
      peer: "10.1.1.1",
      xff: "1.1.1.1, 203.0.113.9",
      want: "203.0.113.9",
    },
    {
      name: "a chain of trusted proxies",
      peer: "10.1.1.1",
      xff: "203.0.113.9, 10.2.2.2, 10.3.3.3",
      want: "203.0.113.9",
    },
    { name: "IPv6 proxy and client", peer: "2001:db8:ffff::1", xff: "2001:db8:1::5", want: "2001:db8:1::5" },
    { name: "repeated headers are one list", peer: "10.1.1.1", xff: ["203.0.113.9", "10.2.2.2"], want: "203.0.113.9" },
    { name: "every hop trusted: the leftmost", peer: "10.1.1.1", xff: "10.9.9.9,10.2.2.2", want: "10.9.9.9" },
    { name: "trusted proxy, empty header", peer: "10.1.1.1", xff: "", want: "10.1.1.1" },
  ])("$name", ({ peer, xff, want }) => expect(formatIp(clientAddress(peer, xff, trusted))).toBe(want));

  it.each([
    { name: "garbage hop", peer: "10.1.1.1", xff: "203.0.113.9, not-an-ip", want: /^x-forwarded-for: / },
    { name: "a port on the hop", peer: "10.1.1.1", xff: "203.0.113.9:4431", want: /^x-forwarded-for: / },
    { name: "too many hops", peer: "10.1.1.1", xff: new Array(40).fill("10.0.0.1").join(","), want: /more than 32/ },
    { name: "no socket address", peer: undefined, xff: undefined, want: /^socket: / },
  ])("rejects $name", ({ peer, xff, want }) => {
    expect(() => clientAddress(peer, xff, trusted)).toThrow(InvalidAddressError);
    expect(() => clientAddress(peer, xff, trusted)).toThrow(want);
  });

  it("rejects a bad trusted proxy CIDR naming its index", () => {
    expect(() => new TrustedProxies(["10.0.0.0/8", "10.0.0.1/8"])).toThrow(/^trustedProxies\[1\]: /);
  });
});

describe("clientNet", () => {
  // The same table as edge/link-verifier.test.ts NETS, which holds the edge's njs to it.
  it.each([
    ["203.0.113.77", "203.0.113.0/24"],
    ["203.0.114.1", "203.0.114.0/24"],
    ["192.0.2.1", "192.0.2.0/24"],
    ["127.0.0.1", "127.0.0.0/24"],
    ["10.0.0.1", "10.0.0.0/24"],
    ["::ffff:198.51.100.9", "198.51.100.0/24"],
    ["::1", "::/48"],
    ["::", "::/48"],
    ["2001:db8:1:2::5", "2001:db8:1::/48"],
    ["2001:db8:1:77::1", "2001:db8:1::/48"],
    ["2001:db8:2::1", "2001:db8:2::/48"],
    ["2001:db8:0:ffff::5", "2001:db8::/48"],
    ["2001:DB8:A:B:C:D:E:F", "2001:db8:a::/48"],
    ["2001:0:5::1", "2001:0:5::/48"],
    ["0:0:5::1", "0:0:5::/48"],
    ["2001::1", "2001::/48"],
    ["2001:db8::", "2001:db8::/48"],
    ["::5:6:7:8:9", "::/48"],
    ["1:2::7:8", "1:2::/48"],
    ["64:ff9b::198.51.100.9", "64:ff9b::/48"],
    ["fe80::1:2:3:4", "fe80::/48"],
  ])("%s → %s", (address, want) => expect(clientNet(parseIp(address))).toBe(want));
});
