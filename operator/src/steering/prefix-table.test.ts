import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../placement/rng.js";
import { readPrefixFile } from "./bgp-file.js";
import { type Cidr, parseCidr, parseIp, wordMask } from "./ip.js";
import { type ParsedPrefixes, toPrefixList } from "./prefix-list.js";
import { InvalidStridesError, Ipv4PrefixTable, Ipv6PrefixTable } from "./prefix-table.js";

/** Seeded 32-bit draws, so that a failure names an address that reproduces. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uint32();
}

function table4(cidrs: string[], strides?: number[]): Ipv4PrefixTable {
  const list = toPrefixList(
    4,
    cidrs.map((c) => parseCidr(c)),
    cidrs.map((_, i) => i),
  );
  return Ipv4PrefixTable.build(list, strides);
}

function table6(cidrs: string[], strides?: number[]): Ipv6PrefixTable {
  const list = toPrefixList(
    6,
    cidrs.map((c) => parseCidr(c)),
    cidrs.map((_, i) => i),
  );
  return Ipv6PrefixTable.build(list, strides);
}

function v4(text: string): number {
  const a = parseIp(text);
  if (a.family !== 4) throw new Error(`${text} is not IPv4`);
  return a.words[0];
}

function lookup6(t: Ipv6PrefixTable, text: string): number {
  const a = parseIp(text);
  if (a.family !== 6) throw new Error(`${text} is not IPv6`);
  return t.lookup(...a.words);
}

/**
 * Reference LPM that shares nothing with the trie: for each length from longest to shortest,
 * mask the address and probe a map of exact prefixes. Exact over the full table, and fast enough.
 */
class ProbeReference {
  readonly #byKey = new Map<string, number>();
  readonly #lengths: number[];

  constructor(prefixes: readonly Cidr[]) {
    const lengths = new Set<number>();
    for (const [i, p] of prefixes.entries()) {
      this.#byKey.set(`${p.address.words.join(".")}/${p.length}`, i);
      lengths.add(p.length);
    }
    this.#lengths = [...lengths].sort((a, b) => b - a);
  }

  lookup(words: readonly number[]): number {
    for (const len of this.#lengths) {
      const masked = words.map((w, i) => (w & wordMask(len - 32 * i)) >>> 0);
      const hit = this.#byKey.get(`${masked.join(".")}/${len}`);
      if (hit !== undefined) return hit;
    }
    return -1;
  }
}

/** Addresses inside random prefixes of the table (random host bits), plus uniformly random ones. */
function probes(prefixes: readonly Cidr[], count: number, wordsPerKey: 1 | 4, next: () => number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < count; k++) {
    const random = Array.from({ length: wordsPerKey }, () => next());
    if (k % 2 === 0) {
      out.push(random);
      continue;
    }
    const p = prefixes[next() % prefixes.length];
    if (p === undefined) continue;
    out.push(p.address.words.map((w, i) => (w | ((random[i] ?? 0) & ~wordMask(p.length - 32 * i))) >>> 0));
  }
  return out;
}

describe("Ipv4PrefixTable", () => {
  const cidrs = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.1.2.200/32"];
  it.each([
    { name: "default route", addr: "192.0.2.1", want: 0 },
    { name: "/8", addr: "10.200.0.1", want: 1 },
    { name: "/16", addr: "10.1.3.4", want: 2 },
    { name: "/24", addr: "10.1.2.3", want: 3 },
    { name: "/25 below the /24 boundary", addr: "10.1.2.129", want: 4 },
    { name: "/32 exact host", addr: "10.1.2.200", want: 5 },
    { name: "neighbour of the /32", addr: "10.1.2.201", want: 4 },
  ])("$name", ({ addr, want }) => {
    for (const strides of [
      [24, 8],
      [16, 8, 8],
      [8, 8, 8, 8],
      [4, 12, 8, 8],
    ]) {
      expect(table4(cidrs, strides).lookup(v4(addr))).toBe(want);
    }
  });

  it("returns -1 when nothing matches", () => {
    expect(table4(["10.0.0.0/8"]).lookup(v4("11.0.0.0"))).toBe(-1);
    expect(table4([]).lookup(v4("1.2.3.4"))).toBe(-1);
  });

  it("is independent of insertion order", () => {
    const t = table4(["10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16"]);
    expect(t.lookup(v4("10.1.2.3"))).toBe(0);
    expect(t.lookup(v4("10.1.9.9"))).toBe(2);
    expect(t.lookup(v4("10.9.9.9"))).toBe(1);
  });

  it.each([
    { name: "sum not 32", strides: [16, 8], want: /sum to 32/ },
    { name: "stride 0", strides: [0, 16, 16], want: /integer 1\.\.24/ },
    { name: "wider than 24", strides: [32], want: /integer 1\.\.24/ },
  ])("rejects strides: $name", ({ strides, want }) => {
    expect(() => table4([], strides)).toThrow(want);
    expect(() => table4([], strides)).toThrow(InvalidStridesError);
  });
});

describe("Ipv6PrefixTable", () => {
  const cidrs = ["::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64", "2001:db8:1:2::1/128"];
  it.each([
    { name: "default route", addr: "2002::1", want: 0 },
    { name: "/32", addr: "2001:db8:ffff::1", want: 1 },
    { name: "/48", addr: "2001:db8:1:ffff::1", want: 2 },
    { name: "/64", addr: "2001:db8:1:2:ffff::1", want: 3 },
    { name: "/128", addr: "2001:db8:1:2::1", want: 4 },
    { name: "next to the /128", addr: "2001:db8:1:2::2", want: 3 },
  ])("$name", ({ addr, want }) => {
    expect(lookup6(table6(cidrs), addr)).toBe(want);
    expect(lookup6(table6(cidrs, [16, 16, 16, 16, 16, 16, 16, 16]), addr)).toBe(want);
  });

  it("rejects a stride across a word boundary", () => {
    expect(() => table6([], [24, 16, ...new Array<number>(11).fill(8)])).toThrow(/crosses a 32-bit word/);
  });
});

describe("against a probing reference on the real BGP table", () => {
  let real: ParsedPrefixes;
  beforeAll(async () => {
    real = await readPrefixFile();
  });

  it("has the documented size", () => {
    expect(real.v4.length + real.v6.length).toBe(1_062_046);
  });

  it("IPv4: the full table, every stride layout", () => {
    const ref = new ProbeReference(real.v4);
    const list = toPrefixList(
      4,
      real.v4,
      real.v4.map((_, i) => i),
    );
    const addrs = probes(real.v4, 20_000, 1, rng(4));
    for (const strides of [
      [16, 8, 8],
      [24, 8],
    ]) {
      const t = Ipv4PrefixTable.build(list, strides);
      const wrong = addrs.filter(([a = 0]) => t.lookup(a) !== ref.lookup([a]));
      expect(wrong.slice(0, 5), `strides ${strides.join(",")}`).toEqual([]);
    }
  });

  it("IPv6: the full table", () => {
    const ref = new ProbeReference(real.v6);
    const t = Ipv6PrefixTable.build(
      toPrefixList(
        6,
        real.v6,
        real.v6.map((_, i) => i),
      ),
    );
    const next = rng(6);
    // Uniform 128-bit addresses almost never match; keep the random half inside 2000::/3.
    const addrs = probes(real.v6, 20_000, 4, next).map(([w0 = 0, ...rest]) =>
      next() % 2 ? [((w0 & 0x1fffffff) | 0x20000000) >>> 0, ...rest] : [w0, ...rest],
    );
    const wrong = addrs.filter(([a = 0, b = 0, c = 0, d = 0]) => t.lookup(a, b, c, d) !== ref.lookup([a, b, c, d]));
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it("a sample of the table against a linear scan of every prefix", () => {
    const next = rng(7);
    const sample = real.v4.filter(() => next() % 64 === 0);
    const t = Ipv4PrefixTable.build(
      toPrefixList(
        4,
        sample,
        sample.map((_, i) => i),
      ),
    );
    for (const [a = 0] of probes(sample, 2_000, 1, next)) {
      let best = -1;
      let bestLen = -1;
      for (const [i, p] of sample.entries()) {
        if (p.length > bestLen && (a & wordMask(p.length)) >>> 0 === p.address.words[0])
          [best, bestLen] = [i, p.length];
      }
      expect(t.lookup(a), `address ${a}`).toBe(best);
    }
  });
});
