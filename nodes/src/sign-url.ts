import { createHash } from "node:crypto";

/**
 * The query nginx's secure_link accepts for `uriPath` until `expiresUnix`:
 * md5 = base64url(MD5(expires + uri + " " + secret)), no padding. The agent signs its own fetches from
 * peers with the cluster's secret; the playback API signs client URLs the same way.
 */
export function signedQuery(uriPath: string, secret: string, expiresUnix: number): string {
  const md5 = createHash("md5").update(`${expiresUnix}${uriPath} ${secret}`).digest("base64url");
  return `md5=${md5}&expires=${expiresUnix}`;
}
