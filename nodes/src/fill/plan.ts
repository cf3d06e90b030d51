import type { WantedFile } from "./spec.js";

/** Files published on the content disk: path relative to the content root → size in bytes. */
export type OnDisk = ReadonlyMap<string, number>;
export type DiskFile = Readonly<{ path: string; bytes: number }>;

export type FillPlan = Readonly<{
  /** Missing, or present with the wrong size or sha256 (replaced by an atomic rename, never deleted first). */
  fetch: readonly WantedFile[];
  present: readonly WantedFile[];
  /** On disk but not wanted by this placement: still there because a live Placement names it. */
  evictable: readonly DiskFile[];
}>;

/**
 * Diffs the wanted files against the disk. A file counts as present only when its size matches AND
 * its sha256 is known to be the wanted one (`verified`: recorded when it was published, or hashed
 * again where no record holds), so a torn or foreign file of the right size is fetched again.
 */
export function planFill(wanted: readonly WantedFile[], onDisk: OnDisk, verified: ReadonlySet<string>): FillPlan {
  const fetch: WantedFile[] = [];
  const present: WantedFile[] = [];
  for (const f of wanted) (onDisk.get(f.path) === f.bytes && verified.has(f.path) ? present : fetch).push(f);
  return { fetch, present, evictable: planEviction(wanted, onDisk) };
}

/**
 * What the fill still has to write, in bytes the filesystem allocates: each file rounded up to whole
 * blocks, less the blocks its partial download already holds, plus a block for its digest record.
 */
export function spaceNeeded(
  fetch: readonly Pick<WantedFile, "bytes">[],
  partialBytes: (i: number) => number,
  blockSize: number,
): number {
  const blocks = (n: number) => Math.ceil(n / blockSize) * blockSize;
  return fetch.reduce((a, f, i) => a + blocks(f.bytes) - blocks(Math.min(partialBytes(i), f.bytes)) + blockSize, 0);
}

/** Files to remove when `keep` is every file that must stay: everything else on disk. */
export function planEviction(keep: readonly Pick<WantedFile, "path">[], onDisk: OnDisk): DiskFile[] {
  const kept = new Set(keep.map((f) => f.path));
  return [...onDisk]
    .filter(([path]) => !kept.has(path))
    .map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Where a file's bytes come from; `kind` is how the fill report counts them. */
export type Source = Readonly<{ name: string; kind: "peer" | "origin"; url: string }>;

/**
 * The file's peers in the order given (peer-order.ts), then the origin (DESIGN decision 3). Peers' nginx
 * checks secure links, so `signPeer(baseUrl, path)` gives the whole signed URL.
 */
export function sourcesFor(
  file: WantedFile,
  peers: readonly { name: string; url: string }[],
  origin: string,
  signPeer: (baseUrl: string, uriPath: string) => string,
): Source[] {
  const uri = `/${file.path}`;
  const fromPeers = file.peers.flatMap((name) => {
    const p = peers.find((x) => x.name === name);
    return p ? [{ name: `peer ${name}`, kind: "peer" as const, url: signPeer(p.url, uri) }] : [];
  });
  return [...fromPeers, { name: "origin", kind: "origin", url: `${origin}${uri}` }];
}
