import { createHash } from "node:crypto";

/** Thrown for signing input that breaks a rule; the message names the field and the rule. */
export class SignUrlError extends Error {
  override name = "SignUrlError";
}

export type SignUrlInput = Readonly<{
  /** Scheme, host and optional port of the edge server, e.g. "https://192.0.2.10:8443". */
  baseUrl: string;
  /** Absolute path of the file on the edge, e.g. "/title-42/video/h264_1080p.mp4". */
  path: string;
  /** The cluster's link secret, the one nginx's secure_link_md5 line holds. */
  secret: string;
  expiresAt: Date;
}>;

/**
 * Unreserved characters and "/" only, with no "." or ".." segment and no "//": nginx signs `$uri`, the
 * decoded and normalised path, so any path this rule lets through is byte-identical in both places.
 */
const SAFE_PATH = /^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/;
const DOT_SEGMENT = /\/\.\.?(\/|$)/;
const BASE_URL = /^https?:\/\/[^/?#\s]+\/?$/;
/** Same rule as the edge's secret include (edge/nginx-config.ts), so both sides accept the same secrets. */
const SECRET = /^[A-Za-z0-9._~+/=-]{16,256}$/;

/**
 * A URL nginx's secure_link module accepts until `expiresAt`:
 * `secure_link $arg_md5,$arg_expires; secure_link_md5 "$secure_link_expires$uri <secret>";`
 * so md5 = base64url, unpadded, of MD5(expires + path + " " + secret), expires in unix seconds.
 * ❌ signUrl({ path: "/a/../b.mp4", … }) would sign a path nginx never sees; it throws instead.
 */
export function signUrl({ baseUrl, path, secret, expiresAt }: SignUrlInput): string {
  if (!BASE_URL.test(baseUrl))
    throw new SignUrlError(`baseUrl: "${baseUrl}" must be http(s)://host[:port] with no path`);
  if (!SAFE_PATH.test(path) || DOT_SEGMENT.test(path)) {
    throw new SignUrlError(`path: "${path}" must start with "/" and hold only A-Z a-z 0-9 . _ ~ - and "/" segments`);
  }
  if (!SECRET.test(secret)) throw new SignUrlError("secret: must be 16–256 characters of A-Z a-z 0-9 . _ ~ + / = -");
  const expires = Math.floor(expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(expires) || expires <= 0)
    throw new SignUrlError("expiresAt: must be a valid date after 1970");
  const md5 = createHash("md5").update(`${expires}${path} ${secret}`).digest("base64url");
  return `${baseUrl.replace(/\/$/, "")}${path}?md5=${md5}&expires=${expires}`;
}
