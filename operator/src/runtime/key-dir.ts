/**
 * A directory of keys as the kubelet mounts a Secret: one file per entry, reached through `..data`, a
 * symlink the kubelet swaps atomically when the Secret changes (so a process mounting it sees a new
 * kid without a restart, within the kubelet's sync period). Read through `..data` when it is there, so
 * one read never mixes two versions; a plain directory (a test, a file mount) is read as it is.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";

/** The directory's entries, name → content; names starting with "." (the kubelet's own) are left out. */
export async function readKeyDir(dir: string): Promise<Map<string, Buffer>> {
  const real = await realpath(join(dir, "..data")).catch(() => dir);
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(real)).sort()) {
    if (name.startsWith(".")) continue;
    const path = join(real, name);
    if ((await stat(path)).isFile()) out.set(name, await readFile(path));
  }
  return out;
}

export type KeyDirWatch<T> = Readonly<{
  /** What the directory held at the last read that parsed. */
  current(): T;
  /** Called after a read that parsed and differs from the one before. */
  onChange(fn: () => void): void;
}>;

export type KeyDirOptions = Readonly<{ intervalMs: number; log: Logger; signal: AbortSignal }>;

/**
 * Reads and parses `dir` now (throwing what the read or `parse` throws: a process should not start
 * without its keys), then again every `intervalMs` until `signal` aborts. A later read that fails or
 * does not parse is logged and changes nothing: the keys held before stay.
 */
export async function watchKeyDir<T>(
  dir: string,
  parse: (entries: ReadonlyMap<string, Buffer>) => T,
  o: KeyDirOptions,
): Promise<KeyDirWatch<T>> {
  const digest = (entries: ReadonlyMap<string, Buffer>) => {
    const h = createHash("sha256");
    for (const [name, content] of entries) h.update(`${name}\0${content.length}\0`).update(content);
    return h.digest("hex");
  };
  const first = await readKeyDir(dir);
  let value = parse(first);
  let seen = digest(first);
  const listeners: (() => void)[] = [];
  const poll = async () => {
    try {
      const entries = await readKeyDir(dir);
      const d = digest(entries);
      if (d === seen) return;
      value = parse(entries);
      seen = d;
      o.log.info({ dir }, "keys changed");
      for (const fn of listeners) fn();
    } catch (err) {
      o.log.error({ err, dir }, "keys unreadable; keeping the ones read before");
    }
  };
  const timer = setInterval(() => void poll(), o.intervalMs);
  timer.unref();
  o.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return { current: () => value, onChange: (fn) => void listeners.push(fn) };
}
