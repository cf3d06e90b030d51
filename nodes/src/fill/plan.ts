import type { WantedFile } from "./spec.js";

/** Files published on the content disk: path relative to the content root → size in bytes. */
export type OnDisk = ReadonlyMap<string, number>;
export type DiskFile = Readonly<{ path: string; bytes: number }>;

export type FillPlan = Readonly<{
  /** Missing, or present with the wrong size (replaced by an atomic rename, never deleted first). */
  fetch: readonly WantedFile[];
  present: readonly WantedFile[];
  /** On disk but not wanted: removed only after this placement is promoted (see planEviction). */
  evictable: readonly DiskFile[];
}>;

/**
 * Diffs the wanted files against the disk. A published file was verified before its rename, so a
 * matching size is trusted rather than re-hashing terabytes every night.
 */
export function planFill(wanted: readonly WantedFile[], onDisk: OnDisk): FillPlan {
  const fetch: WantedFile[] = [];
  const present: WantedFile[] = [];
  for (const f of wanted) (onDisk.get(f.path) === f.bytes ? present : fetch).push(f);
  return { fetch, present, evictable: planEviction(wanted, onDisk) };
}

/** Files to remove once `active` is the promoted placement: everything on disk it does not name. */
export function planEviction(active: readonly Pick<WantedFile, "path">[], onDisk: OnDisk): DiskFile[] {
  const keep = new Set(active.map((f) => f.path));
  return [...onDisk]
    .filter(([path]) => !keep.has(path))
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
