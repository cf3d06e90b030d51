import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { signUrl } from "../../../operator/src/steering/sign-url.js";
import { PARTIAL_DIR, partialName, removePublished, scanContent } from "./disk.js";
import { type BySourceKind, type FileResult, fillFile } from "./fetch-file.js";
import { planEviction, planFill, sourcesFor } from "./plan.js";
import type { FillSpec } from "./spec.js";
import { TokenBucket } from "./token-bucket.js";

type Tally = { files: number; bytes: number };

export type FillReport = Readonly<{
  server: string;
  filled: Tally & { downloadedBytes: number };
  present: Tally;
  failed: Tally & { items: { path: string; reason: string }[] };
  /** Not wanted by this placement; evicted after promotion by `evict`. */
  evictable: Tally;
  /**
   * The bytes received (filled.downloadedBytes), by the kind of source that sent them: how much of
   * the fill its peers spared the origin.
   */
  downloadedFrom: BySourceKind;
}>;

export type FillDeps = Readonly<{
  now: () => Date;
  /** Called as each file finishes, for logs. */
  onFile?: (r: FileResult) => void;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}>;

/** How long a peer URL signed by the agent stays valid: longer than any single file fetch. */
const PEER_LINK_TTL_S = 6 * 3600;

/** Fills this server's files for a new placement. Never deletes a published file. Safe to re-run. */
export async function runFill(spec: FillSpec, deps: FillDeps): Promise<FillReport> {
  const plan = planFill(spec.files, await scanContent(spec.contentPath));
  const secret = spec.secretPath === undefined ? undefined : (await readFile(spec.secretPath, "utf8")).trim();
  const signPeer = (baseUrl: string, path: string) => {
    if (secret === undefined) throw new Error("no secret to sign peer fetches");
    return signUrl({ baseUrl, path, secret, expiresAt: new Date(deps.now().getTime() + PEER_LINK_TTL_S * 1000) });
  };
  // A burst of ~100 ms at the cap keeps pacing smooth without starving a 64 KiB chunk.
  const bucket =
    spec.bandwidthCap === undefined
      ? undefined
      : new TokenBucket(spec.bandwidthCap, Math.max(spec.bandwidthCap / 10, 1 << 16));
  const fetchDeps = { bucket, idleTimeoutMs: deps.idleTimeoutMs ?? 30_000, signal: deps.signal };

  const results: FileResult[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < plan.fetch.length; i = next++) {
      const f = plan.fetch[i];
      if (!f) break;
      const r = await fillFile(
        spec.contentPath,
        f,
        sourcesFor(f, spec.sources.peers, spec.sources.origin, signPeer),
        fetchDeps,
      );
      deps.onFile?.(r);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, plan.fetch.length) }, worker));

  const filled = results.filter((r) => r.status === "filled");
  const failed = results.flatMap((r) => (r.status === "failed" ? [r] : []));
  return {
    server: spec.server,
    filled: { ...tally(filled), downloadedBytes: results.reduce((a, r) => a + r.downloaded, 0) },
    present: tally(plan.present),
    failed: { ...tally(failed), items: failed.map((r) => ({ path: r.path, reason: r.reason })) },
    evictable: tally(plan.evictable),
    downloadedFrom: {
      origin: results.reduce((a, r) => a + r.downloadedFrom.origin, 0),
      peers: results.reduce((a, r) => a + r.downloadedFrom.peers, 0),
    },
  };
}

export type EvictReport = Readonly<{ server: string; evicted: Tally; partialsRemoved: number }>;

/**
 * Run only after `spec`'s placement is promoted (steering no longer sends clients to the old files):
 * removes every published file it does not name, and partial downloads of files it does not want.
 */
export async function runEvict(spec: Pick<FillSpec, "server" | "contentPath" | "files">): Promise<EvictReport> {
  const gone = planEviction(spec.files, await scanContent(spec.contentPath));
  for (const f of gone) await removePublished(spec.contentPath, f.path);
  const wantedPartials = new Set(spec.files.map(partialName));
  const partialDir = join(spec.contentPath, PARTIAL_DIR);
  const partials = await readdir(partialDir).catch(() => [] as string[]);
  const stale = partials.filter((p) => !wantedPartials.has(p));
  for (const p of stale) await unlink(join(partialDir, p));
  return { server: spec.server, evicted: tally(gone), partialsRemoved: stale.length };
}

function tally(fs: readonly { bytes: number }[]): Tally {
  return { files: fs.length, bytes: fs.reduce((a, f) => a + f.bytes, 0) };
}
