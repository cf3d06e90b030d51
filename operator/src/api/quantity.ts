/**
 * Storage sizes ("200Ti") and bit rates ("40Gbps") as they are written in specs. The patterns are the
 * ones the CRD enforces, so anything the API server admitted parses here. Both are positive by
 * construction: the integer part starts with 1-9, so "0Ti" and "0.5Gbps" are rejected (write "512Gi").
 */

export class QuantityError extends Error {
  override name = "QuantityError";
}

const binary = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 } as const;
const decimal = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 } as const;
const byteSuffixes: Readonly<Record<string, number>> = { "": 1, ...binary, ...decimal };
const bitSuffixes: Readonly<Record<string, number>> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A byte quantity: Kubernetes suffixes (Ki…Ei binary, k…E decimal), at most three decimals. */
export const bytesPattern = "^[1-9][0-9]*(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$";
/** A bit rate: an amount followed by bps, kbps, Mbps, Gbps or Tbps, at most three decimals. */
export const bitsPerSecondPattern = "^[1-9][0-9]*(\\.[0-9]{1,3})?(k|M|G|T)?bps$";

const bytesRe = new RegExp(bytesPattern);
const bitsRe = new RegExp(bitsPerSecondPattern);

function parse(s: string, re: RegExp, suffixes: Readonly<Record<string, number>>, what: string, eg: string): number {
  const m = re.exec(s);
  if (!m) throw new QuantityError(`${JSON.stringify(s)} is not a ${what}: expected a positive amount like ${eg}`);
  const scale = suffixes[m[2] ?? ""];
  if (scale === undefined) throw new QuantityError(`${JSON.stringify(s)}: unknown suffix ${m[2]}`);
  const amount = Number(s.slice(0, s.length - (m[2]?.length ?? 0) - (what === "bit rate" ? 3 : 0)));
  const v = Math.floor(amount * scale);
  if (!Number.isSafeInteger(v)) throw new QuantityError(`${JSON.stringify(s)} is too large for a ${what}`);
  return v;
}

/** Bytes in a storage quantity, rounded down to whole bytes. Throws QuantityError naming the value. */
export function parseBytes(s: string): number {
  return parse(s, bytesRe, byteSuffixes, "byte quantity", '"200Ti" or "500G"');
}

/** Bits per second in a bit rate, rounded down. Throws QuantityError naming the value. */
export function parseBitsPerSecond(s: string): number {
  return parse(s, bitsRe, bitSuffixes, "bit rate", '"40Gbps" or "2.5Gbps"');
}

function format(n: number, units: readonly (readonly [string, number])[], suffix: string): string {
  for (const [unit, scale] of units) {
    if (n >= scale) return `${Math.floor((n / scale) * 1000) / 1000}${unit}${suffix}`;
  }
  return `${n}${suffix}`;
}

/** The largest binary unit that keeps at least 1 ("836Ti"); rounds down to three decimals, as the pattern allows. */
export function formatBytes(n: number): string {
  return format(n, [...Object.entries(binary)].reverse(), "");
}

/** The largest decimal unit that keeps at least 1 ("360Gbps"). */
export function formatBitsPerSecond(n: number): string {
  return format(
    n,
    [
      ["T", 1e12],
      ["G", 1e9],
      ["M", 1e6],
      ["k", 1e3],
    ],
    "bps",
  );
}
