// The njs verifier's text, run in Node (its require('fs'), require('crypto') and Buffer are Node's own
// API), held to the networks steering's clientNet gives (client-address.test.ts checks it against the
// same table) and to sign-url.ts's verifyLink over the same cases. nodes/test/nginx.test.ts runs it in
// the real nginx.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deriveLinkKey, signUrl, verifyLink } from "../steering/sign-url.js";
import { renderLinkVerifier } from "./link-verifier.js";

type Njs = Readonly<{
  denied(r: { args: Record<string, string | string[]>; remoteAddress: string; uri: string }): string;
  clientNet(address: string): string;
  kids(r: { return(status: number, body: string): void }): void;
}>;

const dir = mkdtempSync(join(tmpdir(), "link-verifier-"));
const master = Buffer.from("unit-master-0123456789abcdefghijklmnop");
const k1 = deriveLinkKey(master, "cdn", "ams-1");
const k2 = deriveLinkKey(Buffer.from("unit-master-2-0123456789abcdefghijklm"), "cdn", "ams-1");
writeFileSync(join(dir, "k1.key"), k1.toString("base64url"));
writeFileSync(join(dir, "k2.key"), `${k2.toString("base64url")}\n`);
writeFileSync(join(dir, "bad.key"), "not-a-key");
writeFileSync(join(dir, "primary"), "k1");

function load(text: string): Njs {
  const body = text.replace("export default", "return");
  return new Function("require", "Buffer", body)(createRequire(import.meta.url), Buffer) as Njs;
}
const njs = load(renderLinkVerifier(dir));

/** Addresses and their networks, as client-address.ts clientNet gives them (its test has the same table). */
const NETS: Record<string, string> = {
  "203.0.113.77": "203.0.113.0/24",
  "203.0.114.1": "203.0.114.0/24",
  "192.0.2.1": "192.0.2.0/24",
  "127.0.0.1": "127.0.0.0/24",
  "::ffff:198.51.100.9": "198.51.100.0/24",
  "::1": "::/48",
  "::": "::/48",
  "2001:db8:1:2::5": "2001:db8:1::/48",
  "2001:db8:1:77::1": "2001:db8:1::/48",
  "2001:db8:2::1": "2001:db8:2::/48",
  "2001:db8:0:ffff::5": "2001:db8::/48",
  "2001:DB8:A:B:C:D:E:F": "2001:db8:a::/48",
  "2001:0:5::1": "2001:0:5::/48",
  "0:0:5::1": "0:0:5::/48",
  "2001::1": "2001::/48",
  "2001:db8::": "2001:db8::/48",
  "::5:6:7:8:9": "::/48",
  "1:2::7:8": "1:2::/48",
  "64:ff9b::198.51.100.9": "64:ff9b::/48",
  "fe80::1:2:3:4": "fe80::/48",
};

describe("the verifier's client network", () => {
  it.each(Object.entries(NETS))("%s is in %s, as steering computes it", (address, net) =>
    expect(njs.clientNet(address)).toBe(net),
  );
});

describe("the verifier agrees with verifyLink", () => {
  const nowMs = Date.now();
  const exp = new Date(nowMs + 3600_000);
  const client = "203.0.113.77";
  const sign = (o: Partial<Parameters<typeof signUrl>[0]> = {}) =>
    signUrl({
      baseUrl: "http://e",
      path: "/t/a.mp4",
      kid: "k1",
      key: k1,
      net: NETS[client] ?? "",
      expiresAt: exp,
      ...o,
    });
  const cases: { name: string; url: string; from?: string; uri?: string }[] = [
    { name: "good", url: sign() },
    { name: "good, second kid", url: sign({ kid: "k2", key: k2 }) },
    { name: "any network from elsewhere", url: sign({ net: "any" }), from: "192.0.2.1" },
    { name: "from another /24", url: sign(), from: "203.0.114.1" },
    { name: "IPv6 client's /48", url: sign({ net: "2001:db8:1::/48" }), from: "2001:db8:1:77::1" },
    { name: "IPv6 client in another /48", url: sign({ net: "2001:db8:1::/48" }), from: "2001:db8:2::1" },
    { name: "another cluster", url: sign({ key: deriveLinkKey(master, "cdn", "fra-1") }) },
    { name: "unknown kid", url: sign({ kid: "k3" }) },
    { name: "kid whose key file is bad", url: sign({ kid: "bad" }) },
    { name: "expired", url: sign({ expiresAt: new Date(nowMs - 5000) }) },
    { name: "tampered exp", url: sign().replace(/exp=\d+/, "exp=9999999999") },
    { name: "tampered sig", url: sign().replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`) },
    { name: "other path", url: sign(), uri: "/t/b.mp4" },
    { name: "missing net", url: sign().replace(/&net=[^&]+/, "") },
    { name: "kid reaching the primary entry", url: sign().replace("kid=k1", "kid=primary") },
  ];
  it.each(cases)("$name", ({ url, from, uri }) => {
    const u = new URL(url);
    const args: Record<string, string | string[]> = {};
    for (const [k, v] of u.searchParams) {
      const prev = args[k];
      args[k] = prev === undefined ? v : [prev].flat().concat(v);
    }
    const address = from ?? client;
    const path = uri ?? u.pathname;
    const want = verifyLink({
      path,
      query: u.searchParams,
      clientNet: NETS[address] ?? "",
      keyOf: (kid) => ({ k1, k2 })[kid as "k1" | "k2"],
      nowMs: Date.now(),
    });
    expect(njs.denied({ args, remoteAddress: address, uri: path })).toBe(want ?? "");
  });
});

it("lists the kids it holds a good key for", () => {
  let body = "";
  njs.kids({ return: (_status, b) => (body = b) });
  expect(body).toBe("k1,k2\n");
});
