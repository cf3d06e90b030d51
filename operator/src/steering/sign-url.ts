import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";

/** Thrown for signing input that breaks a rule; the message names the field and the rule. */
export class SignUrlError extends Error {
  override name = "SignUrlError";
}

/**
 * Signed links, as steering hands them out, the edge's nginx checks them (edge/link-verifier.ts, in
 * njs) and fills sign fetches from peers:
 *
 *   https://<edge>/<path>?kid=<kid>&exp=<unix s>&net=<client network | any>&sig=<base64url>
 *   sig = the first 128 bits of HMAC-SHA256(<cluster key of kid>,
 *                                           "edgefleet-link-v1\n<kid>\n<exp>\n<net>\n<path>"), base64url
 *
 * - **Per cluster**: a cluster's key for `kid` is HMAC-SHA256(master of kid, "edgefleet-link/<namespace>/<cluster>")
 *   (deriveLinkKey). Steering and the operator hold the masters; an edge holds only its own cluster's
 *   keys, so a link signed for one cluster is refused by every other, and an edge node that leaks its
 *   keys can forge links for its own cluster only.
 * - **Key ids**: the edge accepts every kid it holds a key for; steering signs with one (the primary).
 *   Rotation adds a kid, makes it primary, then removes the old one once its links have expired.
 * - **Client network**: `net` is the client's IPv4 /24 or IPv6 /48 (clientNet in client-address.ts, as
 *   nginx's secure_link documentation suggests binding to the client), and the edge recomputes it from
 *   the connection's address: a link used from another network is refused. `any` (ANY_NET) is
 *   signed as such: fills sign their fetches from peers with it (they fetch from behind NAT, and
 *   whoever holds a cluster's key could sign for any network anyway).
 * - 128 bits of the MAC are kept (22 characters) to keep URLs short: forging one is still a 2^-128
 *   guess per try, and truncation to half the output is what RFC 2104 §5 and NIST SP 800-107 allow.
 */
export const LINK_SCHEME = "edgefleet-link-v1";
export const SIG_CHARS = 22;
export const ANY_NET = "any";
/** Key ids: short (they are in every URL), lower-case, and never a name another entry uses. */
export const KID = /^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
/** Entry names in a key directory (the master Secret, a cluster's link-key Secret): `<kid>.key` and `primary`. */
export const KEY_SUFFIX = ".key";
export const PRIMARY_ENTRY = "primary";
/** An IPv4 /24, an IPv6 /48 as client-address.ts formats them (RFC 5952), or `any`. */
const NET = /^(?:any|(?:\d{1,3}\.){3}0\/24|[0-9a-f:]{2,16}\/48)$/;
const EXP = /^\d{1,12}$/;
const SIG = /^[A-Za-z0-9_-]{22}$/;
/** Bytes of a cluster key (one HMAC-SHA256 output). */
export const CLUSTER_KEY_BYTES = 32;

/** A cluster's key for one kid: what its edge holds, derived from the master of that kid. */
export function deriveLinkKey(master: Uint8Array, namespace: string, cluster: string): Buffer {
  return createHmac("sha256", master).update(`edgefleet-link/${namespace}/${cluster}`).digest();
}

export type LinkFields = Readonly<{ kid: string; exp: number; net: string; path: string }>;

/** Per key: SHA-256 states that have absorbed the key's inner and outer pads (RFC 2104). */
const padded = new WeakMap<Uint8Array, Readonly<{ inner: Hash; outer: Hash }>>();
const SHA256_BLOCK = 64;

function paddedKey(key: Uint8Array): Readonly<{ inner: Hash; outer: Hash }> {
  let p = padded.get(key);
  if (p === undefined) {
    const k = key.length > SHA256_BLOCK ? createHash("sha256").update(key).digest() : key;
    const ipad = Buffer.alloc(SHA256_BLOCK, 0x36);
    const opad = Buffer.alloc(SHA256_BLOCK, 0x5c);
    for (let i = 0; i < k.length; i++) {
      ipad[i] = (ipad[i] ?? 0) ^ (k[i] ?? 0);
      opad[i] = (opad[i] ?? 0) ^ (k[i] ?? 0);
    }
    p = { inner: createHash("sha256").update(ipad), outer: createHash("sha256").update(opad) };
    padded.set(key, p);
  }
  return p;
}

/**
 * The base64url signature of a link's fields under a cluster key (the first SIG_CHARS characters).
 * HMAC-SHA256 by its definition, from copies of the key's padded hash states: createHmac imports the
 * key again on every call, which cost 3× the hashing itself, and a manifest signs 24 links.
 */
export function linkSignature(key: Uint8Array, f: LinkFields): string {
  const { inner, outer } = paddedKey(key);
  const text = `${LINK_SCHEME}\n${f.kid}\n${f.exp}\n${f.net}\n${f.path}`;
  return outer.copy().update(inner.copy().update(text).digest()).digest("base64url").slice(0, SIG_CHARS);
}

export type SignUrlInput = Readonly<{
  /** Scheme, host and optional port of the edge server, e.g. "https://192.0.2.10:8443". */
  baseUrl: string;
  /** Absolute path of the file on the edge, e.g. "/title-42/video/h264_1080p.mp4". */
  path: string;
  /** The key id the edge looks the key up by. */
  kid: string;
  /** The cluster's key for `kid` (deriveLinkKey), the one its edge holds. */
  key: Uint8Array;
  /** The client's network (clientNet), or ANY_NET. */
  net: string;
  expiresAt: Date;
}>;

/**
 * Unreserved characters and "/" only, with no "." or ".." segment and no "//": nginx signs `$uri`, the
 * decoded and normalised path, so any path this rule lets through is byte-identical in both places.
 */
const SAFE_PATH = /^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/;
const DOT_SEGMENT = /\/\.\.?(\/|$)/;
const BASE_URL = /^https?:\/\/[^/?#\s]+\/?$/;

/**
 * A URL the edge of the key's cluster accepts until `expiresAt`, from the client network `net` only
 * (or from anywhere with ANY_NET). Every value of the query is of a URL-safe alphabet, so none is encoded.
 * ❌ signUrl({ path: "/a/../b.mp4", … }) would sign a path nginx never sees; it throws instead.
 * ❌ signUrl({ net: "203.0.113.7/32", … }): the edge compares the client's /24, never a host; it throws.
 */
export function signUrl({ baseUrl, path, kid, key, net, expiresAt }: SignUrlInput): string {
  if (!BASE_URL.test(baseUrl))
    throw new SignUrlError(`baseUrl: "${baseUrl}" must be http(s)://host[:port] with no path`);
  if (!SAFE_PATH.test(path) || DOT_SEGMENT.test(path)) {
    throw new SignUrlError(`path: "${path}" must start with "/" and hold only A-Z a-z 0-9 . _ ~ - and "/" segments`);
  }
  if (!KID.test(kid)) throw new SignUrlError(`kid: "${kid}" must be 1-16 characters of a-z, 0-9 and "-"`);
  if (key.length !== CLUSTER_KEY_BYTES)
    throw new SignUrlError(`key: must be ${CLUSTER_KEY_BYTES} bytes (deriveLinkKey)`);
  if (!NET.test(net)) throw new SignUrlError(`net: "${net}" must be an IPv4 /24, an IPv6 /48 (clientNet) or "any"`);
  const exp = Math.floor(expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(exp) || exp <= 0) throw new SignUrlError("expiresAt: must be a valid date after 1970");
  const sig = linkSignature(key, { kid, exp, net, path });
  return `${baseUrl.replace(/\/$/, "")}${path}?kid=${kid}&exp=${exp}&net=${net}&sig=${sig}`;
}

/** Why the edge refuses a link (403), first failure wins, in this order. */
export type LinkRefusal = "missing" | "kid" | "expired" | "net" | "signature";

export type VerifyLinkInput = Readonly<{
  /** The request's decoded, normalised path (nginx's `$uri`). */
  path: string;
  query: URLSearchParams;
  /** The network of the connection's address (clientNet). */
  clientNet: string;
  /** The cluster key of a kid; undefined for a kid this edge does not hold. */
  keyOf: (kid: string) => Uint8Array | undefined;
  nowMs: number;
}>;

/**
 * What the edge decides for a request: undefined to serve it, else why it is refused. The reference of
 * the njs verifier (edge/link-verifier.ts), which the nginx tests hold to the same cases. A link is
 * good through the second `exp` names, as secure_link's `expires` is.
 */
export function verifyLink(i: VerifyLinkInput): LinkRefusal | undefined {
  const one = (name: string) => (i.query.getAll(name).length === 1 ? (i.query.get(name) ?? "") : undefined);
  const [kid, exp, net, sig] = ["kid", "exp", "net", "sig"].map(one);
  if (kid === undefined || exp === undefined || net === undefined || sig === undefined) return "missing";
  if (!KID.test(kid)) return "kid";
  if (!EXP.test(exp) || Math.floor(i.nowMs / 1000) > Number(exp)) return "expired";
  if (net !== ANY_NET && net !== i.clientNet) return "net";
  const key = i.keyOf(kid);
  if (key === undefined) return "kid";
  if (!SIG.test(sig)) return "signature";
  const want = Buffer.from(linkSignature(key, { kid, exp: Number(exp), net, path: i.path }));
  return timingSafeEqual(want, Buffer.from(sig)) ? undefined : "signature";
}
