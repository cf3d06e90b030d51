import { mkdir, readdir, stat, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readKeyDir } from "../../../operator/src/runtime/key-dir.js";
import { type LinkKeyring, parseClusterKeys } from "../../../operator/src/steering/link-keys.js";
import { ANY_NET, signUrl } from "../../../operator/src/steering/sign-url.js";
import { digestOf, removeDigest } from "./digest.js";
import { PARTIAL_DIR, partialName, partialPath, removePublished, scanContent } from "./disk.js";
import { type BySourceKind, type FileResult, fillFile } from "./fetch-file.js";
import { type DiskFile, type OnDisk, planEviction, planFill, sourcesFor, spaceNeeded } from "./plan.js";
import type { FillSpec, WantedFile } from "./spec.js";
import { TokenBucket } from "./token-bucket.js";

type Tally = { files: number; bytes: number };

/** A file some Placement names: what must stay on disk, and which partial download is its. */
export type KeptFile = Pick<WantedFile, "path" | "sha256">;

export type FillReport = Readonly<{
  server: string;
  filled: Tally & { downloadedBytes: number };
  present: Tally;
  /** Present files whose digest had no valid record and were read again to check it. */
  rehashed: number;
  failed: Tally & { items: { path: string; reason: string }[] };
  /** Removed before the fill: named by no live Placement (nor one superseded too recently). */
  removed: Tally & { partials: number };
  /** Still on disk, not wanted by this placement: a live Placement names them; evict removes them later. */
  evictable: Tally;
  /** What the fill had to write and what the disk had free after the clean-up; nothing is fetched unless it fits. */
  space: { needBytes: number; freeBytes: number; enough: boolean };
  /**
   * The bytes received (filled.downloadedBytes), by the kind of source that sent them: how much of
   * the fill its peers spared the origin.
   */
  downloadedFrom: BySourceKind;
}>;

/** Free space of the filesystem holding a path: statfs(2), as Node gives it. */
export type StatFs = (path: string) => Promise<{ bavail: number; bsize: number }>;

export type FillDeps = Readonly<{
  now: () => Date;
  /** Called as each file finishes, for logs. */
  onFile?: (r: FileResult) => void;
  /** Called for each file removed before the fill, for logs. */
  onRemoved?: (f: DiskFile) => void;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Every file another kept Placement names (the Active one, others filling, ones superseded within
   * the signed-URL lifetime). Given, the fill first removes what neither they nor this fill name;
   * absent, it removes nothing (the kept set could not be computed).
   */
  keep?: readonly KeptFile[] | undefined;
  /** statfs, injectable: a test shows a disk too small without filling one. */
  statfs?: StatFs;
}>;

/** How long a peer URL signed by the agent stays valid: longer than any single file fetch. */
const PEER_LINK_TTL_S = 6 * 3600;

/**
 * Fills this server's files for a new placement, with the content directory's lock held by the caller
 * (lock.ts): removes what no kept Placement names, checks the rest fits in the free space, then fetches
 * what is missing. Safe to re-run.
 */
export async function runFill(spec: FillSpec, deps: FillDeps): Promise<FillReport> {
  const root = spec.contentPath;
  await mkdir(root, { recursive: true });
  const scanned = await scanContent(root);
  const { verified, rehashed } = await verifyPresent(root, spec.files, scanned, spec.concurrency);
  const removed = deps.keep
    ? await removeUnkept(root, [...spec.files, ...deps.keep], scanned, deps.onRemoved)
    : { files: [], partials: 0 };
  const onDisk = new Map(scanned);
  for (const f of removed.files) onDisk.delete(f.path);
  const plan = planFill(spec.files, onDisk, verified);
  const space = await checkSpace(root, plan.fetch, deps.statfs ?? statfs);
  const results = space.enough ? await fetchAll(spec, plan.fetch, deps) : [];

  const filled = results.filter((r) => r.status === "filled");
  const failed = results.flatMap((r) => (r.status === "failed" ? [r] : []));
  return {
    server: spec.server,
    filled: { ...tally(filled), downloadedBytes: results.reduce((a, r) => a + r.downloaded, 0) },
    present: tally(plan.present),
    rehashed,
    failed: { ...tally(failed), items: failed.map((r) => ({ path: r.path, reason: r.reason })) },
    removed: { ...tally(removed.files), partials: removed.partials },
    evictable: tally(plan.evictable),
    space,
    downloadedFrom: {
      origin: results.reduce((a, r) => a + r.downloadedFrom.origin, 0),
      peers: results.reduce((a, r) => a + r.downloadedFrom.peers, 0),
    },
  };
}

/** Runs up to `n` of `fn` at once over `items`, results in order. */
async function pool<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/**
 * The wanted files on disk at their size whose content is the wanted one: by the digest recorded at
 * publish, or (no valid record: published by an older agent, or touched since) by reading them again.
 */
async function verifyPresent(root: string, wanted: readonly WantedFile[], onDisk: OnDisk, concurrency: number) {
  const sized = wanted.filter((f) => onDisk.get(f.path) === f.bytes);
  const digests = await pool(sized, concurrency, (f) => digestOf(root, f.path));
  const verified = new Set(sized.filter((f, i) => digests[i]?.sha256 === f.sha256).map((f) => f.path));
  return { verified, rehashed: digests.filter((d) => d.rehashed).length };
}

/** Removes every published file, digest record and partial download that no file of `keep` names. */
async function removeUnkept(
  root: string,
  keep: readonly KeptFile[],
  onDisk: OnDisk,
  onRemoved?: (f: DiskFile) => void,
): Promise<{ files: DiskFile[]; partials: number }> {
  const gone = planEviction(keep, onDisk);
  for (const f of gone) {
    await removePublished(root, f.path);
    await removeDigest(root, f.path);
    onRemoved?.(f);
  }
  const wantedPartials = new Set(keep.map(partialName));
  const partialDir = join(root, PARTIAL_DIR);
  const partials = await readdir(partialDir).catch(() => [] as string[]);
  const stale = partials.filter((p) => !wantedPartials.has(p));
  for (const p of stale) await unlink(join(partialDir, p));
  return { files: gone, partials: stale.length };
}

/** Whether what is left to fetch fits in the free space (statfs), counting what partials already hold. */
async function checkSpace(root: string, fetch: readonly WantedFile[], fs: StatFs): Promise<FillReport["space"]> {
  if (fetch.length === 0) return { needBytes: 0, freeBytes: 0, enough: true };
  const { bavail, bsize } = await fs(root);
  const partials = await Promise.all(
    fetch.map(async (f) => (await stat(partialPath(root, f)).catch(() => undefined))?.size ?? 0),
  );
  const needBytes = spaceNeeded(fetch, (i) => partials[i] ?? 0, bsize);
  const freeBytes = bavail * bsize;
  return { needBytes, freeBytes, enough: needBytes <= freeBytes };
}

async function fetchAll(spec: FillSpec, fetch: readonly WantedFile[], deps: FillDeps): Promise<FileResult[]> {
  const dir = spec.linkKeysDir;
  // A burst of ~100 ms at the cap keeps pacing smooth without starving a 64 KiB chunk.
  const bucket =
    spec.bandwidthCap === undefined
      ? undefined
      : new TokenBucket(spec.bandwidthCap, Math.max(spec.bandwidthCap / 10, 1 << 16));
  const fetchDeps = { bucket, idleTimeoutMs: deps.idleTimeoutMs ?? 30_000, signal: deps.signal };
  return pool(fetch, spec.concurrency, async (f) => {
    // Read per file: a fill runs for hours, and the keys may rotate meanwhile (a kid removed).
    const signPeer = peerSigner(dir === undefined ? undefined : await readClusterKeys(dir), deps.now());
    const r = await fillFile(
      spec.contentPath,
      f,
      sourcesFor(f, spec.sources.peers, spec.sources.origin, signPeer),
      fetchDeps,
    );
    deps.onFile?.(r);
    return r;
  });
}

/**
 * Signs a fetch from a peer with the cluster's primary kid, for any network: peers see this Job's
 * fetches from whatever address NAT gives it, and only a holder of the cluster's keys can sign such a
 * link (who holds them could sign for any network anyway).
 */
function peerSigner(keys: LinkKeyring | undefined, now: Date) {
  return (baseUrl: string, path: string): string => {
    const key = keys?.keys.get(keys.primary);
    if (keys === undefined || key === undefined) throw new Error("no link keys to sign peer fetches");
    const expiresAt = new Date(now.getTime() + PEER_LINK_TTL_S * 1000);
    return signUrl({ baseUrl, path, kid: keys.primary, key, net: ANY_NET, expiresAt });
  };
}

/** A cluster's link keys, from the directory its link-key Secret is mounted at (or a copy of it). */
export async function readClusterKeys(dir: string): Promise<LinkKeyring> {
  const entries = await readKeyDir(dir);
  try {
    return parseClusterKeys(entries);
  } catch (err) {
    throw new Error(`link keys in ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export type EvictReport = Readonly<{ server: string; evicted: Tally; partialsRemoved: number }>;

/**
 * With the content directory's lock held by the caller (so no fill is writing partials), removes
 * every published file that no kept Placement names (`keep`: the Active one, the ones filling, the
 * ones superseded within the signed-URL lifetime), their digest records, and partial downloads of
 * files none of them wants.
 */
export async function runEvict(
  spec: Pick<FillSpec, "server" | "contentPath"> & { keep: readonly KeptFile[] },
): Promise<EvictReport> {
  const r = await removeUnkept(spec.contentPath, spec.keep, await scanContent(spec.contentPath));
  return { server: spec.server, evicted: tally(r.files), partialsRemoved: r.partials };
}

function tally(fs: readonly { bytes: number }[]): Tally {
  return { files: fs.length, bytes: fs.reduce((a, f) => a + f.bytes, 0) };
}
