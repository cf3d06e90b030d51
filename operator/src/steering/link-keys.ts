/**
 * Link keys as they are stored: a directory (a mounted Secret) of `<kid>.key` entries and a `primary`
 * naming the kid that signs. The master Secret, which steering and the operator mount, holds masters;
 * each cluster's link-key Secret, which the operator writes into the cluster's namespace and its edge
 * pods and fill Jobs mount, holds that cluster's keys derived from them (sign-url.ts deriveLinkKey).
 * The `.key` suffix keeps a kid from ever naming another entry (`primary`, the kubelet's `..data`).
 */
import { CLUSTER_KEY_BYTES, deriveLinkKey, KEY_SUFFIX, KID, PRIMARY_ENTRY } from "./sign-url.js";

/** Thrown for a key directory that breaks a rule; the message names the entry. */
export class LinkKeysError extends Error {
  override name = "LinkKeysError";
}

/** The keys of a directory, by kid, and the kid that signs. */
export type LinkKeyring = Readonly<{ keys: ReadonlyMap<string, Buffer>; primary: string }>;

/** Masters are at least this long: 32 characters of base64 or hex (`openssl rand -base64 32`). */
const MIN_MASTER_CHARS = 32;

/**
 * The master keys, from the entries of the Secret steering and the operator mount (file name → content):
 * `<kid>.key` holds a master (its trimmed text, at least 32 characters, is the HMAC key) and `primary`
 * names the kid steering signs with. Entries starting with "." (the kubelet's `..data`) are skipped.
 * Throws LinkKeysError naming the entry.
 */
export function parseMasterKeys(entries: ReadonlyMap<string, Uint8Array | string>): LinkKeyring {
  return parseKeyDir(entries, (kid, text) => {
    if (text.length < MIN_MASTER_CHARS || /\s/.test(text)) {
      throw new LinkKeysError(
        `${kid}${KEY_SUFFIX}: must be at least ${MIN_MASTER_CHARS} characters without whitespace`,
      );
    }
    return Buffer.from(text);
  });
}

/** A cluster's keys as its link-key Secret holds them: `<kid>.key` = base64url of the 32-byte key, and `primary`. */
export function parseClusterKeys(entries: ReadonlyMap<string, Uint8Array | string>): LinkKeyring {
  return parseKeyDir(entries, (kid, text) => {
    const key = Buffer.from(text, "base64url");
    if (key.length !== CLUSTER_KEY_BYTES || key.toString("base64url") !== text) {
      throw new LinkKeysError(`${kid}${KEY_SUFFIX}: must be the base64url of ${CLUSTER_KEY_BYTES} bytes`);
    }
    return key;
  });
}

/** A cluster's keyring, each kid's key derived for it from the masters': what steering signs its links with. */
export function clusterKeyring(masters: LinkKeyring, namespace: string, cluster: string): LinkKeyring {
  const keys = new Map([...masters.keys].map(([kid, m]) => [kid, deriveLinkKey(m, namespace, cluster)]));
  return { keys, primary: masters.primary };
}

/** A cluster's link-key Secret data (entry → text) for a master keyring: what its edge and fills hold. */
export function clusterKeyEntries(masters: LinkKeyring, namespace: string, cluster: string): Record<string, string> {
  const out: Record<string, string> = { [PRIMARY_ENTRY]: masters.primary };
  for (const [kid, key] of clusterKeyring(masters, namespace, cluster).keys) {
    out[`${kid}${KEY_SUFFIX}`] = key.toString("base64url");
  }
  return out;
}

function parseKeyDir(
  entries: ReadonlyMap<string, Uint8Array | string>,
  keyOf: (kid: string, text: string) => Buffer,
): LinkKeyring {
  const keys = new Map<string, Buffer>();
  let primary: string | undefined;
  for (const [name, raw] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
    if (name.startsWith(".")) continue;
    const text = (typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8")).trim();
    if (name === PRIMARY_ENTRY) {
      primary = text;
    } else if (name.endsWith(KEY_SUFFIX) && KID.test(name.slice(0, -KEY_SUFFIX.length))) {
      const kid = name.slice(0, -KEY_SUFFIX.length);
      keys.set(kid, keyOf(kid, text));
    } else {
      throw new LinkKeysError(
        `${name}: entries are <kid>${KEY_SUFFIX} (a kid is 1-16 characters of a-z, 0-9 and "-") and ${PRIMARY_ENTRY}`,
      );
    }
  }
  if (keys.size === 0) throw new LinkKeysError(`no <kid>${KEY_SUFFIX} entry`);
  if (primary === undefined) throw new LinkKeysError(`${PRIMARY_ENTRY}: missing (it names the kid that signs)`);
  if (!keys.has(primary)) {
    throw new LinkKeysError(
      `${PRIMARY_ENTRY}: "${primary}" has no ${primary}${KEY_SUFFIX} entry (have ${[...keys.keys()].join(", ")})`,
    );
  }
  return { keys, primary };
}

/** The master keys as they stand now, and a way to hear when they change (a kid added, made primary, removed). */
export type LinkKeySource = Readonly<{
  current(): LinkKeyring | undefined;
  onChange(fn: () => void): void;
}>;

/** Keys that never change: for tests, and for a process given its keys once. */
export function fixedLinkKeys(keys: LinkKeyring | undefined): LinkKeySource {
  return { current: () => keys, onChange: () => {} };
}
