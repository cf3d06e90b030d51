/**
 * Synthetic media for the kind cluster's origin: every file's bytes are a pure function of its path and
 * size (xorshift128 seeded by the path's SHA-256), so the Titles can declare each file's sha256 without
 * the bytes ever leaving the origin pod, and the fill's sha256 check is a real one.
 *
 * The origin pod runs this file as it is (Node's type stripping, so only erasable TypeScript and node:
 * imports): `node media.ts <files.json> <dir>` writes each { path, bytes } of files.json under dir.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

export type MediaFile = Readonly<{ path: string; bytes: number }>;

const BLOCK = 1 << 20;

/** The file's bytes, a block at a time (a 4K rendition is too big to hold twice). */
export function* mediaBlocks(f: MediaFile): Generator<Uint8Array> {
  const seed = createHash("sha256").update(f.path).digest();
  let x = seed.readUInt32LE(0) | 1;
  let y = seed.readUInt32LE(4);
  let z = seed.readUInt32LE(8);
  let w = seed.readUInt32LE(12);
  for (let off = 0; off < f.bytes; off += BLOCK) {
    const n = Math.min(BLOCK, f.bytes - off);
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    yield new Uint8Array(words.buffer, 0, n);
  }
}

/** Hex SHA-256 of the file's bytes: what its Title declares. */
export function mediaSha256(f: MediaFile): string {
  const h = createHash("sha256");
  for (const b of mediaBlocks(f)) h.update(b);
  return h.digest("hex");
}

/** Hex SHA-256 of the file's bytes [start, end] (inclusive, as an HTTP Range): what a chunk must hash to. */
export function mediaRangeSha256(f: MediaFile, start: number, end: number): string {
  const h = createHash("sha256");
  let off = 0;
  for (const b of mediaBlocks(f)) {
    const from = Math.max(start, off);
    const to = Math.min(end + 1, off + b.length);
    if (from < to) h.update(b.subarray(from - off, to - off));
    off += b.length;
    if (off > end) break;
  }
  return h.digest("hex");
}

/** Writes every file under dir (to a temporary name, then renamed), returning the bytes written. */
export async function writeMedia(files: readonly MediaFile[], dir: string): Promise<number> {
  let total = 0;
  for (const f of files) {
    const out = join(dir, f.path);
    await mkdir(dirname(out), { recursive: true });
    const fh = await open(`${out}.partial`, "w");
    try {
      for (const b of mediaBlocks(f)) await fh.write(b);
    } finally {
      await fh.close();
    }
    await rename(`${out}.partial`, out);
    total += f.bytes;
  }
  return total;
}

if (import.meta.main) {
  const [list, dir] = process.argv.slice(2);
  if (!list || !dir) throw new Error("usage: node media.ts <files.json> <dir>");
  const files = JSON.parse(await readFile(list, "utf8")) as MediaFile[];
  const t0 = performance.now();
  const bytes = await writeMedia(files, dir);
  console.log(
    `${files.length} files, ${bytes} bytes written under ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
}
