import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Partial downloads live on the same filesystem as the content (so rename is atomic), under a dot
 *  directory that nginx never serves and the scan never lists. */
export const PARTIAL_DIR = ".edgefleet/partial";

/** Keyed by path and checksum, so a changed file never resumes onto a stale prefix. */
export function partialName(file: { path: string; sha256: string }): string {
  return `${createHash("sha256").update(`${file.path}\0${file.sha256}`).digest("hex").slice(0, 32)}.part`;
}

export function partialPath(root: string, file: { path: string; sha256: string }): string {
  return join(root, PARTIAL_DIR, partialName(file));
}

/** Published regular files under `root`, skipping dot entries and symlinks. */
export async function scanContent(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" && rel === "") return [];
      throw new Error(`scanning ${join(root, rel)}`, { cause: err });
    });
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.set(p, (await stat(join(root, p))).size);
    }
  }
  await walk("");
  return out;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Durable, atomic publish: the file's data is on disk before its name is, and the name before we return. */
export async function publish(part: string, final: string): Promise<void> {
  const fh = await open(part, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await mkdir(dirname(final), { recursive: true });
  await rename(part, final);
  await syncDir(dirname(final));
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Removes a published file and the directories it leaves empty, up to (not including) the root. */
export async function removePublished(root: string, rel: string): Promise<void> {
  await unlink(join(root, rel)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  const parts = rel.split("/").slice(0, -1);
  while (parts.length > 0) {
    const ok = await rmdir(join(root, ...parts)).then(
      () => true,
      () => false,
    );
    if (!ok) break;
    parts.pop();
  }
}
