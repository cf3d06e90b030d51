import { type Cidr, cidrContains, InvalidAddressError, type IpAddress, parseCidr, parseIp } from "./ip.js";

/** The proxies whose X-Forwarded-For is believed, as CIDRs ("10.0.0.0/8", "2001:db8::/32"). */
export class TrustedProxies {
  readonly #cidrs: readonly Cidr[];

  constructor(cidrs: readonly string[]) {
    this.#cidrs = cidrs.map((c, i) => parseCidr(c, `trustedProxies[${i}]`));
  }

  has(address: IpAddress): boolean {
    return this.#cidrs.some((c) => cidrContains(c, address));
  }
}

/** At most this many X-Forwarded-For hops are read; a longer chain is refused rather than scanned. */
const MAX_HOPS = 32;

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy. Then X-Forwarded-For is
 * read from the right (each proxy appends the address it saw) and the first hop that is not itself a
 * trusted proxy is the client. The leftmost entries are whatever the client sent and are never trusted
 * on their own. Throws InvalidAddressError naming the header for a malformed hop.
 * ❌ taking the first X-Forwarded-For entry lets any client choose its steering.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): IpAddress {
  if (peer === undefined) throw new InvalidAddressError("socket", "the connection has no remote address");
  let client = parseIp(peer, "socket remote address");
  if (!trusted.has(client) || forwardedFor === undefined) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",");
  if (hops.length > MAX_HOPS) throw new InvalidAddressError("x-forwarded-for", `more than ${MAX_HOPS} hops`);
  for (let i = hops.length - 1; i >= 0 && trusted.has(client); i--) {
    const hop = (hops[i] ?? "").trim();
    if (hop === "") continue;
    client = parseIp(hop, "x-forwarded-for");
  }
  return client;
}
