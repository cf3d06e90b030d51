/**
 * IP addresses and CIDR prefixes, accepted exactly where the API server's CEL `ip()` and `cidr()`
 * libraries accept them (Go's net/netip): dotted quads without leading zeros, RFC 4291 IPv6 text, no
 * zones, and no IPv4-mapped IPv6 (Kubernetes rejects those to keep one spelling per address).
 */

export type IPAddress = Readonly<{ family: 4 | 6; value: bigint }>;
export type CIDR = Readonly<{ family: 4 | 6; value: bigint; prefixLength: number }>;

const octet = /^(0|[1-9][0-9]{0,2})$/;
const hextet = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!octet.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseHextets(s: string): bigint[] | undefined {
  if (s === "") return [];
  const out: bigint[] = [];
  const parts = s.split(":");
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIPv4(p);
      if (v4 === undefined) return undefined;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else if (hextet.test(p)) {
      out.push(BigInt(`0x${p}`));
    } else {
      return undefined;
    }
  }
  return out;
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0] ?? "");
  const tail = halves.length === 2 ? parseHextets(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<bigint>(missing).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an IPv4 or IPv6 address, or returns undefined when CEL's `isIP` would be false. */
export function parseIP(s: string): IPAddress | undefined {
  if (s.includes(":")) {
    const v = parseIPv6(s);
    if (v === undefined || v >> 32n === 0xffffn) return undefined;
    return { family: 6, value: v };
  }
  const v = parseIPv4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Parses "addr/len", or returns undefined when CEL's `isCIDR` would be false. Host bits may be set. */
export function parseCIDR(s: string): CIDR | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(len)) return undefined;
  const prefixLength = Number(len);
  if (prefixLength > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, prefixLength };
}

/** True when no bits beyond the prefix length are set, as CEL's `cidr(s) == cidr(s).masked()`. */
export function isMasked(c: CIDR): boolean {
  const hostBits = BigInt((c.family === 4 ? 32 : 128) - c.prefixLength);
  return (c.value & ((1n << hostBits) - 1n)) === 0n;
}
