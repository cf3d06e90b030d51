import { type Cidr, cidrContains, formatCidr, InvalidAddressError, type IpAddress, parseCidr, parseIp } from "./ip.js";

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

/**
 * The client's network a signed link is bound to (sign-url.ts): its IPv4 /24 or its IPv6 /48, as
 * nginx's secure_link documentation suggests binding links to the client, with room for a household's
 * or a carrier NAT pool's neighbouring addresses. Written as formatCidr writes it (RFC 5952), which
 * the edge's verifier (edge/link-verifier.ts) recomputes from the connection's address.
 */
export function clientNet(address: IpAddress): string {
  if (address.family === 4) {
    return formatCidr({ address: { family: 4, words: [(address.words[0] & 0xffffff00) >>> 0] }, length: 24 });
  }
  const [w0, w1] = address.words;
  return formatCidr({ address: { family: 6, words: [w0, (w1 & 0xffff0000) >>> 0, 0, 0] }, length: 48 });
}
