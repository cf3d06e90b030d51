import { type Cidr, parseCidr } from "./ip.js";
import type { PrefixList } from "./prefix-table.js";

/** Packs CIDRs of one family into the parallel arrays the prefix tables build from. */
export function toPrefixList(family: 4 | 6, prefixes: readonly Cidr[], values: readonly number[]): PrefixList {
  const wordsPerKey = family === 4 ? 1 : 4;
  const keys = new Uint32Array(prefixes.length * wordsPerKey);
  const lengths = new Uint8Array(prefixes.length);
  for (const [i, p] of prefixes.entries()) {
    if (p.address.family !== family) throw new RangeError(`prefix ${i} is not IPv${family}`);
    keys.set(p.address.words, i * wordsPerKey);
    lengths[i] = p.length;
  }
  return { wordsPerKey, keys, lengths, values: Uint32Array.from(values) };
}

export type ParsedPrefixes = Readonly<{ v4: Cidr[]; v6: Cidr[] }>;

/** Parses one CIDR a line (blank lines and "#" comments skipped); errors name the line. */
export function parsePrefixLines(text: string): ParsedPrefixes {
  const v4: Cidr[] = [];
  const v6: Cidr[] = [];
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cidr = parseCidr(line, `line ${lineNo}`);
    (cidr.address.family === 4 ? v4 : v6).push(cidr);
  }
  return { v4, v6 };
}
