import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clientNet } from "./client-address.js";
import { parseIp } from "./ip.js";
import { clusterKeyEntries, LinkKeysError, parseClusterKeys, parseMasterKeys } from "./link-keys.js";
import {
  ANY_NET,
  deriveLinkKey,
  type LinkRefusal,
  linkSignature,
  SignUrlError,
  signUrl,
  verifyLink,
} from "./sign-url.js";

// Vectors computed independently with openssl:
//   K = printf '%s' 'edgefleet-link/cdn/ams-1' | openssl dgst -sha256 -mac HMAC -macopt key:<master> -binary
//   printf 'edgefleet-link-v1\n<kid>\n<exp>\n<net>\n<path>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<K> -binary \
//     | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-22
const MASTER = Buffer.from("master-key-0123456789abcdefghijklmnop");
const KEY = deriveLinkKey(MASTER, "cdn", "ams-1");

describe("deriveLinkKey", () => {
  it("is HMAC-SHA256(master, edgefleet-link/<namespace>/<cluster>)", () =>
    expect(KEY.toString("base64url")).toBe("P6x8IDC5IWtP_zMmXwxuIH2lFRZGgNJ9Sx0roIQfza4"));
  it.each([
    { name: "another cluster", ns: "cdn", cluster: "ams-2" },
    { name: "another namespace", ns: "cdn2", cluster: "ams-1" },
    { name: "a shifted boundary", ns: "cdn/ams", cluster: "1" },
  ])("differs for $name", ({ ns, cluster }) => expect(deriveLinkKey(MASTER, ns, cluster).equals(KEY)).toBe(false));
});

describe("signUrl", () => {
  it.each([
    {
      name: "title file for an IPv4 client's /24",
      input: {
        baseUrl: "https://192.0.2.10",
        path: "/title-42/video/h264_1080p.mp4",
        kid: "k1",
        net: "203.0.113.0/24",
      },
      exp: 1_893_456_000_000,
      want: "https://192.0.2.10/title-42/video/h264_1080p.mp4?kid=k1&exp=1893456000&net=203.0.113.0/24&sig=0RG6ysgGDJMGUWXcc7bxF5",
    },
    {
      name: "IPv6 host with port and trailing slash, an IPv6 /48, sub-second expiry truncated",
      input: { baseUrl: "https://[2001:db8::10]:8443/", path: "/a/b.m4s", kid: "k2", net: "2001:db8:1::/48" },
      exp: 2_147_483_647_999,
      want: "https://[2001:db8::10]:8443/a/b.m4s?kid=k2&exp=2147483647&net=2001:db8:1::/48&sig=ccx017fUG1QjY6QhbJT2y_",
    },
    {
      name: "any network (a fill's fetch from a peer)",
      input: { baseUrl: "http://edge", path: "/a.mp4", kid: "k1", net: ANY_NET },
      exp: 1_893_456_000_000,
      want: "http://edge/a.mp4?kid=k1&exp=1893456000&net=any&sig=jvNcolnNLzQVpqgx37lyQY",
    },
  ])("$name", ({ input, exp, want }) => expect(signUrl({ ...input, key: KEY, expiresAt: new Date(exp) })).toBe(want));

  it.each(["2401:4900:362f:1::77", "2001:db8::1", "::1", "ffff:ffff:ffff:ffff::1"])(
    "signs for the /48 clientNet gives a client at %s (up to 16 characters before /48)",
    (ip) => {
      const net = clientNet(parseIp(ip));
      const url = signUrl({ baseUrl: "http://e", path: "/a.mp4", kid: "k1", key: KEY, net, expiresAt: new Date(2e12) });
      expect(url).toContain(`&net=${net}&`);
    },
  );

  const ok = {
    baseUrl: "https://edge",
    path: "/a.mp4",
    kid: "k1",
    key: KEY,
    net: "198.51.100.0/24",
    expiresAt: new Date(1e12),
  };
  it.each([
    { name: "base URL with a path", o: { baseUrl: "https://edge/x" }, want: /^baseUrl: / },
    { name: "base URL not http", o: { baseUrl: "ftp://edge" }, want: /^baseUrl: / },
    { name: "relative path", o: { path: "a.mp4" }, want: /^path: / },
    { name: "dot-dot segment", o: { path: "/a/../b.mp4" }, want: /^path: / },
    { name: "dot segment", o: { path: "/a/./b.mp4" }, want: /^path: / },
    { name: "percent-encoded path", o: { path: "/a%20b.mp4" }, want: /^path: / },
    { name: "empty segment", o: { path: "/a//b.mp4" }, want: /^path: / },
    { name: "query in path", o: { path: "/a.mp4?x=1" }, want: /^path: / },
    { name: "upper-case kid", o: { kid: "K1" }, want: /^kid: / },
    { name: "kid with a dot", o: { kid: "k.1" }, want: /^kid: / },
    { name: "kid of 17 characters", o: { kid: "k".repeat(17) }, want: /^kid: / },
    { name: "a master instead of a cluster key", o: { key: MASTER }, want: /^key: / },
    { name: "a host instead of a network", o: { net: "203.0.113.7/32" }, want: /^net: / },
    { name: "an IPv4 /16", o: { net: "203.0.0.0/16" }, want: /^net: / },
    { name: "no network", o: { net: "" }, want: /^net: / },
    { name: "invalid date", o: { expiresAt: new Date(Number.NaN) }, want: /^expiresAt: / },
  ])("rejects $name", ({ o, want }) => {
    expect(() => signUrl({ ...ok, ...o })).toThrow(SignUrlError);
    expect(() => signUrl({ ...ok, ...o })).toThrow(want);
  });
});

describe("verifyLink", () => {
  const now = 1_800_000_000_000;
  const exp = new Date(now + 3600_000);
  const otherCluster = deriveLinkKey(MASTER, "cdn", "fra-1");
  const k2 = deriveLinkKey(Buffer.from("another-master-0123456789abcdefghij"), "cdn", "ams-1");
  const keys = new Map([
    ["k1", KEY],
    ["k2", k2],
  ]);
  const client = clientNet(parseIp("203.0.113.77"));
  const sign = (o: Partial<Parameters<typeof signUrl>[0]> = {}) =>
    signUrl({ baseUrl: "http://e", path: "/t/a.mp4", kid: "k1", key: KEY, net: client, expiresAt: exp, ...o });
  const check = (url: string, over: { clientNet?: string; nowMs?: number; path?: string } = {}) => {
    const u = new URL(url);
    return verifyLink({
      path: over.path ?? u.pathname,
      query: u.searchParams,
      clientNet: over.clientNet ?? client,
      keyOf: (kid) => keys.get(kid),
      nowMs: over.nowMs ?? now,
    });
  };

  it("accepts a link signed for this cluster and this client's network", () => expect(check(sign())).toBeUndefined());
  it("accepts every kid the edge holds", () => expect(check(sign({ kid: "k2", key: k2 }))).toBeUndefined());
  it("accepts an any-network link from anywhere", () =>
    expect(check(sign({ net: ANY_NET }), { clientNet: "192.0.2.0/24" })).toBeUndefined());
  it("accepts a link through its expiry second", () =>
    expect(check(sign(), { nowMs: exp.getTime() + 999 })).toBeUndefined());

  it.each<{ name: string; url: () => string; over?: Parameters<typeof check>[1]; want: LinkRefusal }>([
    { name: "signed for another cluster", url: () => sign({ key: otherCluster }), want: "signature" },
    { name: "used from another /24", url: () => sign(), over: { clientNet: "203.0.114.0/24" }, want: "net" },
    { name: "an IPv4 link used over IPv6", url: () => sign(), over: { clientNet: "2001:db8::/48" }, want: "net" },
    { name: "unknown kid", url: () => sign({ kid: "k3" }), want: "kid" },
    { name: "kid of another key", url: () => sign({ kid: "k2" }), want: "signature" },
    { name: "expired", url: () => sign(), over: { nowMs: exp.getTime() + 1000 }, want: "expired" },
    {
      name: "exp moved later",
      url: () => sign().replace(/exp=\d+/, `exp=${exp.getTime() / 1000 + 9999}`),
      want: "signature",
    },
    { name: "net widened to any", url: () => sign().replace(/net=[^&]+/, "net=any"), want: "signature" },
    {
      name: "net moved to the thief's /24",
      url: () => sign().replace(/net=[^&]+/, "net=192.0.2.0/24"),
      over: { clientNet: "192.0.2.0/24" },
      want: "signature",
    },
    { name: "kid swapped", url: () => sign().replace("kid=k1", "kid=k2"), want: "signature" },
    {
      name: "signed for another path",
      url: () => sign({ path: "/t/b.mp4" }),
      over: { path: "/t/a.mp4" },
      want: "signature",
    },
    {
      name: "tampered signature",
      url: () => sign().replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`),
      want: "signature",
    },
    { name: "short signature", url: () => sign().slice(0, -1), want: "signature" },
    { name: "no signature", url: () => sign().replace(/&sig=.*/, ""), want: "missing" },
    { name: "no exp", url: () => sign().replace(/&exp=\d+/, ""), want: "missing" },
    { name: "two kids", url: () => `${sign()}&kid=k2`, want: "missing" },
    { name: "kid that is no kid", url: () => sign().replace("kid=k1", "kid=../primary"), want: "kid" },
    { name: "exp that is no number", url: () => sign().replace(/exp=\d+/, "exp=1e99"), want: "expired" },
  ])("refuses a link $name: $want", ({ url, over, want }) => expect(check(url(), over)).toBe(want));
});

describe("key directories", () => {
  const masters = (o: Readonly<Record<string, string | undefined>>) =>
    parseMasterKeys(new Map(Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [[k, v] as const]))));
  const m1 = "m1-0123456789abcdefghijklmnopqrstuv";
  const m2 = "m2-0123456789abcdefghijklmnopqrstuv";

  it("reads masters by kid and the primary, trimming newlines and skipping the kubelet's entries", () => {
    const k = parseMasterKeys(
      new Map<string, string | Buffer>([
        ["k1.key", `${m1}\n`],
        ["k2.key", Buffer.from(m2)],
        ["primary", "k2\n"],
        ["..data", "x"],
      ]),
    );
    expect(k.primary).toBe("k2");
    expect([...k.keys.keys()]).toEqual(["k1", "k2"]);
    expect(k.keys.get("k1")?.toString()).toBe(m1);
  });

  it.each([
    { name: "no primary", o: { "k1.key": m1 }, want: /^primary: missing/ },
    { name: "a primary without its key", o: { "k1.key": m1, primary: "k2" }, want: /^primary: "k2" has no k2\.key/ },
    { name: "no key", o: { primary: "k1" }, want: /no <kid>\.key/ },
    { name: "a short master", o: { "k1.key": "short", primary: "k1" }, want: /^k1\.key: must be at least 32/ },
    { name: "the old single entry", o: { key: m1, primary: "k1" }, want: /^key: entries are <kid>\.key/ },
    { name: "a kid named wrong", o: { "K1.key": m1, primary: "K1" }, want: /^K1\.key: entries are/ },
  ])("refuses $name, naming the entry", ({ o, want }) => {
    expect(() => masters(o)).toThrow(LinkKeysError);
    expect(() => masters(o)).toThrow(want);
  });

  it("a cluster's entries hold its derived keys, which parseClusterKeys reads back", () => {
    const k = masters({ "k1.key": m1, "k2.key": m2, primary: "k1" });
    const entries = clusterKeyEntries(k, "cdn", "ams-1");
    expect(Object.keys(entries).sort()).toEqual(["k1.key", "k2.key", "primary"]);
    const back = parseClusterKeys(new Map(Object.entries(entries)));
    expect(back.primary).toBe("k1");
    expect(back.keys.get("k2")?.equals(deriveLinkKey(Buffer.from(m2), "cdn", "ams-1"))).toBe(true);
    expect(entries["k1.key"]).not.toContain(m1);
  });

  it("refuses a cluster key that is not 32 bytes of base64url", () =>
    expect(() =>
      parseClusterKeys(
        new Map([
          ["k1.key", "abc"],
          ["primary", "k1"],
        ]),
      ),
    ).toThrow(/^k1\.key: must be the base64url/));
});

describe("linkSignature", () => {
  it("is HMAC-SHA256 of the link's text, for keys of any length (shorter, equal to and longer than a block)", () =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 130 }), fc.string(), (key, path) => {
        const f = { kid: "k1", exp: 1_893_456_000, net: "192.0.2.0/24", path };
        const want = createHmac("sha256", key)
          .update(`edgefleet-link-v1\nk1\n1893456000\n192.0.2.0/24\n${path}`)
          .digest("base64url")
          .slice(0, 22);
        expect(linkSignature(key, f)).toBe(want);
        expect(linkSignature(key, f)).toBe(want); // the key's padded states are reused, not consumed
      }),
    ));
});
