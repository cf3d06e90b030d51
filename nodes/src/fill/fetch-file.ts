import { mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
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

export type FileResult =
  | Readonly<{ path: string; status: "filled"; bytes: number; downloaded: number; source: string }>
  | Readonly<{ path: string; status: "failed"; bytes: number; downloaded: number; reason: string }>;

/**
 * Fetches one file into the content root: from each source in turn, resuming the partial download
 * with a Range request (also across sources), then verifies size and sha256 and publishes atomically.
 * A checksum mismatch discards the partial, so bad bytes are never published nor resumed onto.
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
  let downloaded = 0;
  for (const src of sources) {
    try {
      downloaded += await download(part, file, src, deps);
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
    return { path: file.path, status: "filled", bytes: file.bytes, downloaded, source: src.name };
  }
  return { path: file.path, status: "failed", bytes: file.bytes, downloaded, reason: reasons.join("; ") };
}

/** Brings the partial file to `file.bytes` from one source; returns the bytes received. Throws on any shortfall. */
async function download(part: string, file: WantedFile, src: Source, deps: FetchDeps): Promise<number> {
  let have = (await stat(part).catch(() => undefined))?.size ?? 0;
  if (have > file.bytes) {
    await unlink(part);
    have = 0;
  }
  if (have === file.bytes && file.bytes > 0) return 0;
  const idle = new AbortController();
  const signal = deps.signal ? AbortSignal.any([idle.signal, deps.signal]) : idle.signal;
  let timer = setTimeout(() => idle.abort(new Error(`no data for ${deps.idleTimeoutMs} ms`)), deps.idleTimeoutMs);
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error(`no data for ${deps.idleTimeoutMs} ms`)), deps.idleTimeoutMs);
  };
  try {
    const res = await fetch(src.url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal });
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      if (Number(m?.[1]) !== have || Number(m?.[3]) !== file.bytes) {
        throw new Error(
          `asked for bytes ${have}- of ${file.bytes}, got content-range ${res.headers.get("content-range")}`,
        );
      }
    } else if (res.status === 200) {
      have = 0; // the source ignored the range: start over
      const len = res.headers.get("content-length");
      if (len !== null && Number(len) !== file.bytes) throw new Error(`size ${len}, catalog says ${file.bytes}`);
    } else {
      throw new Error(`HTTP ${res.status}`);
    }
    const fh = await open(part, have > 0 ? "a" : "w");
    let got = 0;
    try {
      for await (const chunk of res.body ?? []) {
        kick();
        if (have + got + chunk.byteLength > file.bytes)
          throw new Error(`longer than the catalog's ${file.bytes} bytes`);
        await deps.bucket?.take(chunk.byteLength, signal);
        await fh.write(chunk);
        got += chunk.byteLength;
      }
    } finally {
      await fh.close();
    }
    if (have + got !== file.bytes) throw new Error(`ended at byte ${have + got} of ${file.bytes}`);
    return got;
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}
