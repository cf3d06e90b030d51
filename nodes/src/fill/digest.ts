/**
 * The sha256 of each published file, recorded when it is published, so that the next fill can tell a
 * file that is there from one that merely has the right size, without re-reading terabytes.
 *
 * Node has no extended-attribute API, so the record is a small sidecar under the content directory's
 * dot directory (nginx never serves dot paths): `.edgefleet/sha256/<path>`, JSON with the digest and
 * the file's size, inode and mtime when it was recorded. A record whose size, inode or mtime no longer
 * match the file (replaced or touched by something else) is unknown, and the file is hashed again.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { removePublished, sha256File } from "./disk.js";

export const DIGEST_DIR = ".edgefleet/sha256";

type Identity = Readonly<{ size: number; ino: number; mtimeMs: number }>;
type DigestRecord = Identity & Readonly<{ sha256: string }>;

const recordPath = (root: string, rel: string) => join(root, DIGEST_DIR, rel);
const sameFile = (a: Identity, b: Identity) => a.size === b.size && a.ino === b.ino && a.mtimeMs === b.mtimeMs;

/** Records `sha256` for the published file at `rel` as it is now on disk. */
export async function recordDigest(root: string, rel: string, sha256: string): Promise<void> {
  const st = await stat(join(root, rel));
  const rec: DigestRecord = { sha256, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
  const path = recordPath(root, rel);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(rec));
  await rename(tmp, path);
}

/** The recorded sha256 of the file at `rel`, if the record still describes that file. */
export async function recordedDigest(root: string, rel: string): Promise<string | undefined> {
  try {
    const [raw, st] = await Promise.all([readFile(recordPath(root, rel), "utf8"), stat(join(root, rel))]);
    const rec = JSON.parse(raw) as Partial<DigestRecord>;
    if (typeof rec.sha256 !== "string" || typeof rec.size !== "number") return undefined;
    return sameFile(rec as DigestRecord, st) ? rec.sha256 : undefined;
  } catch {
    return undefined; // no record, or an unreadable one: unknown
  }
}

/**
 * The file's sha256: the recorded one when the record still holds, else hashed now (and recorded,
 * so the next fill need not). `rehashed` says which.
 */
export async function digestOf(root: string, rel: string): Promise<{ sha256: string; rehashed: boolean }> {
  const known = await recordedDigest(root, rel);
  if (known !== undefined) return { sha256: known, rehashed: false };
  const sha256 = await sha256File(join(root, rel));
  await recordDigest(root, rel, sha256);
  return { sha256, rehashed: true };
}

/** Removes the record of `rel`, and the record directories it leaves empty. */
export async function removeDigest(root: string, rel: string): Promise<void> {
  await removePublished(join(root, DIGEST_DIR), rel);
}
