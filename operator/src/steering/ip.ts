/**
 * IP addresses as unsigned 32-bit words: one word for IPv4, four (most significant first) for IPv6.
 * Numbers instead of BigInt or strings because the prefix tables index typed arrays with them.
 */

export type Ipv4 = Readonly<{ family: 4; words: readonly [number] }>;
export type Ipv6 = Readonly<{ family: 6; words: readonly [number, number, number, number] }>;
export type IpAddress = Ipv4 | Ipv6;
export type Cidr = Readonly<{ address: IpAddress; length: number }>;

/** Thrown for text that is not an address or CIDR; `field` names what was being parsed. */
export class InvalidAddressError extends Error {
  override name = "InvalidAddressError";
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted-quad IPv4 (no leading zeros: "010" is ambiguous octal in some parsers). */
export function parseIpv4(text: string, field = "address"): Ipv4 {
  const word = ipv4Word(text);
  if (word === undefined) throw new InvalidAddressError(field, `"${clip(text)}" is not a dotted-quad IPv4 address`);
  return { family: 4, words: [word] };
}

function ipv4Word(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let word = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    word = word * 256 + octet;
  }
  return word;
}

/** Parses RFC 4291 text, including "::" and a trailing dotted quad; zone ids ("%eth0") are rejected. */
export function parseIpv6(text: string, field = "address"): Ipv6 {
  const hextets = ipv6Hextets(text);
  if (hextets === undefined) throw new InvalidAddressError(field, `"${clip(text)}" is not an IPv6 address`);
  const w = (i: number) => (((hextets[i] ?? 0) << 16) | (hextets[i + 1] ?? 0)) >>> 0;
  return { family: 6, words: [w(0), w(2), w(4), w(6)] };
}

function ipv6Hextets(text: string): number[] | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Groups of one side of "::"; only the last group of the address may be a dotted quad. */
function parseGroups(text: string, mayEndWithIpv4: boolean): number[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  const out: number[] = [];
  for (const [i, g] of groups.entries()) {
    if (HEXTET.test(g)) {
      out.push(Number.parseInt(g, 16));
    } else if (mayEndWithIpv4 && i === groups.length - 1) {
      const word = ipv4Word(g);
      if (word === undefined) return undefined;
      out.push(word >>> 16, word & 0xffff);
    } else {
      return undefined;
    }
  }
  return out;
}

/** Parses either family; IPv4-mapped IPv6 ("::ffff:a.b.c.d", as sockets report) becomes IPv4. */
export function parseIp(text: string, field = "address"): IpAddress {
  if (text.includes(":")) {
    const v6 = parseIpv6(text, field);
    const [w0, w1, w2, w3] = v6.words;
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) return { family: 4, words: [w3] };
    return v6;
  }
  return parseIpv4(text, field);
}

/** Parses "a.b.c.d/n" or "x::/n"; host bits below the length must be zero (a typo otherwise). */
export function parseCidr(text: string, field = "cidr"): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) throw new InvalidAddressError(field, `"${clip(text)}" has no "/length"`);
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const address = addrText.includes(":") ? parseIpv6(addrText, field) : parseIpv4(addrText, field);
  const max = address.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new InvalidAddressError(field, `prefix length "${clip(lenText)}" must be an integer 0..${max}`);
  }
  const length = Number(lenText);
  if (!hostBitsZero(address.words, length)) {
    throw new InvalidAddressError(field, `"${clip(text)}" has bits set after the first ${length}`);
  }
  return { address, length };
}

/** Mask of the top `bits` bits of a 32-bit word (bits clamped to 0..32). */
export function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

function hostBitsZero(words: readonly number[], length: number): boolean {
  return words.every((w, i) => (w & ~wordMask(length - 32 * i)) >>> 0 === 0);
}

/** True when `address` lies inside `cidr` (families must match). */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.address.family !== address.family) return false;
  const { words } = cidr.address;
  return words.every((w, i) => ((address.words[i] ?? 0) & wordMask(cidr.length - 32 * i)) >>> 0 === w);
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) {
    const [w] = address.words;
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  const hextets = address.words.flatMap((w) => [w >>> 16, w & 0xffff]);
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(hextets);
  return `${hex(hextets.slice(0, bestStart))}::${hex(hextets.slice(bestStart + bestLen))}`;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.address)}/${cidr.length}`;
}

/** Keeps untrusted text short inside error messages. */
function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
