import { mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { recordDigest } from "./digest.js";
import { partialPath, publish, sha256File } from "./disk.js";
import type { Source } from "./plan.js";
import type { WantedFile } from "./spec.js";
import type { TokenBucket } from "./token-bucket.js";

export type FetchDeps = Readonly<{
  /** Shared by every download of the fill: the cap is per fill, not per file. */
  bucket: TokenBucket | undefined;
  /** Abort a source that sends nothing for this long, and go on to the next. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}>;

/** Bytes received, by the kind of source that sent them. */
export type BySourceKind = { origin: number; peers: number };

type Received = Readonly<{
  path: string;
  bytes: number;
  /** Bytes received for this file in this run, from every source tried (also those that then failed). */
  downloaded: number;
  downloadedFrom: Readonly<BySourceKind>;
}>;

export type FileResult =
  | (Received &
      Readonly<{
        status: "filled";
        /** The source that completed the file: "peer <name>" or "origin". */
        source: string;
        /** Sources tried before it and why they gave nothing usable, e.g. "peer s02: HTTP 404". */
        skipped: readonly string[];
      }>)
  | (Received & Readonly<{ status: "failed"; reason: string }>);

/**
 * Fetches one file into the content root: from each source in turn, resuming the partial download
 * with a Range request (also across sources), then verifies size and sha256, publishes atomically and
 * records the digest (digest.ts).
 * A checksum mismatch discards the partial, so bad bytes are never published nor resumed onto.
 * A source that answers anything but 200/206 (a peer without the file answers 404), cannot be reached
 * or stops sending is skipped for the next one; the file fails only when the last source (the origin)
 * fails too.
 */
export async function fillFile(
  root: string,
  file: WantedFile,
  sources: readonly Source[],
  deps: FetchDeps,
): Promise<FileResult> {
  const part = partialPath(root, file);
  await mkdir(dirname(part), { recursive: true });
  const reasons: string[] = [];
  const from: BySourceKind = { origin: 0, peers: 0 };
  const received = () => ({
    path: file.path,
    bytes: file.bytes,
    downloaded: from.origin + from.peers,
    downloadedFrom: { ...from },
  });
  for (const src of sources) {
    const kind = src.kind === "origin" ? "origin" : "peers";
    try {
      await download(part, file, src, deps, (n) => {
        from[kind] += n;
      });
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      reasons.push(`${src.name}: ${describe(err)}`);
      continue;
    }
    const digest = await sha256File(part);
    if (digest !== file.sha256) {
      await unlink(part);
      reasons.push(`${src.name}: sha256 mismatch (got ${digest}, catalog says ${file.sha256})`);
      continue;
    }
    await publish(part, join(root, file.path));
    // The next fill trusts this record instead of reading the file again (a crash before it: hashed then).
    await recordDigest(root, file.path, digest);
    return { ...received(), status: "filled", source: src.name, skipped: reasons };
  }
  return { ...received(), status: "failed", reason: reasons.join("; ") };
}

/**
 * Brings the partial file to `file.bytes` from one source, calling `got(n)` as each chunk is written
 * (so bytes a source sent before failing are counted too). Throws on any shortfall.
 */
async function download(
  part: string,
  file: WantedFile,
  src: Source,
  deps: FetchDeps,
  got: (n: number) => void,
): Promise<void> {
  let have = (await stat(part).catch(() => undefined))?.size ?? 0;
  if (have > file.bytes) {
    await unlink(part);
    have = 0;
  }
  if (have === file.bytes && file.bytes > 0) return;
  const idle = new AbortController();
  const signal = deps.signal ? AbortSignal.any([idle.signal, deps.signal]) : idle.signal;
  let timer = setTimeout(() => idle.abort(new Error(`no data for ${deps.idleTimeoutMs} ms`)), deps.idleTimeoutMs);
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error(`no data for ${deps.idleTimeoutMs} ms`)), deps.idleTimeoutMs);
  };
  try {
    const res = await fetch(src.url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal });
    try {
      have = resumeAt(res, have, file.bytes);
    } catch (err) {
      // Unread, the body would hold its connection open until garbage collection.
      await res.body?.cancel().catch(() => {});
      throw err;
    }
    const fh = await open(part, have > 0 ? "a" : "w");
    let written = have;
    try {
      for await (const chunk of res.body ?? []) {
        kick();
        if (written + chunk.byteLength > file.bytes) throw new Error(`longer than the catalog's ${file.bytes} bytes`);
        await deps.bucket?.take(chunk.byteLength, signal);
        await fh.write(chunk);
        written += chunk.byteLength;
        got(chunk.byteLength);
      }
    } finally {
      await fh.close();
    }
    if (written !== file.bytes) throw new Error(`ended at byte ${written} of ${file.bytes}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Where the response's body starts in the file: `have` for a 206 that answers the Range asked for,
 * 0 for a 200 (the source ignored the range: start over). Throws for any other status (a peer
 * without the file answers 404) or a size that is not the catalog's.
 */
function resumeAt(res: Response, have: number, size: number): number {
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    if (Number(m?.[1]) !== have || Number(m?.[3]) !== size) {
      throw new Error(`asked for bytes ${have}- of ${size}, got content-range ${res.headers.get("content-range")}`);
    }
    return have;
  }
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const len = res.headers.get("content-length");
  if (len !== null && Number(len) !== size) throw new Error(`size ${len}, catalog says ${size}`);
  return 0;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}
