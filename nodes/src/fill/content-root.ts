/**
 * The marker that says a directory is an edgefleet content disk: `.edgefleet/content-root`, written by
 * the first fill. Anything that deletes (evict, and the fill's clean-up) first checks it is there, so
 * a mistaken contentPath (`/var/lib`, a host's data disk) is refused with its path named, never wiped.
 *
 * A fill claims a directory only when nothing is published in it yet, or when `.edgefleet/partial`
 * shows an agent from before markers filled it; any other directory with files is refused too.
 */
import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PARTIAL_DIR } from "./disk.js";

export const MARKER = ".edgefleet/content-root";

/** The directory is not (or not yet provably) an edgefleet content directory: nothing was changed. */
export class NotContentRootError extends Error {
  override name = "NotContentRootError";
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw err;
    },
  );

/** Evict's check: the marker is there. */
export async function checkContentRoot(root: string): Promise<void> {
  if (await exists(join(root, MARKER))) return;
  throw new NotContentRootError(
    `${root} has no ${MARKER}: it was never filled by edgefleet, so evict removes nothing from it (is spec.edge.contentPath right?)`,
  );
}

/** The first published file found under `root` (dot entries skipped), or undefined for none. */
export async function firstPublishedFile(root: string, rel = ""): Promise<string | undefined> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isFile()) return p;
    if (e.isDirectory()) {
      const found = await firstPublishedFile(root, p);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The fill's check, before it takes the lock (which creates `.edgefleet/`): whether it may claim the
 * directory. Resolves "marked" (ours already) or "claimable" (empty, or filled by an agent from before
 * markers); throws NotContentRootError naming a file it found otherwise.
 */
export async function claimable(root: string): Promise<"marked" | "claimable"> {
  if (await exists(join(root, MARKER))) return "marked";
  if (await exists(join(root, PARTIAL_DIR))) return "claimable";
  const file = await firstPublishedFile(root);
  if (file === undefined) return "claimable";
  throw new NotContentRootError(
    `${root} holds files (${file}, …) but no ${MARKER}: it does not look like an edgefleet content directory, so the fill neither adds to it nor deletes from it (is spec.edge.contentPath right? if it is, create the marker: touch ${join(root, MARKER)})`,
  );
}

/** Writes the marker (the lock is held, so `.edgefleet/` exists). */
export async function markContentRoot(root: string, by: string, now: Date): Promise<void> {
  await writeFile(join(root, MARKER), `edgefleet content directory, first filled by ${by} at ${now.toISOString()}\n`);
}
