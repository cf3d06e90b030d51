/**
 * One lock per content directory, held by every fill and evict for as long as it reads or changes the
 * disk: a fill and an evict of two Placements never run on one disk at once, and an evict never sees
 * (nor removes) the partial downloads of a fill in progress.
 *
 * An flock(2) on `.edgefleet/lock`: the kernel releases it when its holder dies, SIGKILL included, so
 * no stale lock outlives a killed Job. Node has no flock, so util-linux's `flock` (Debian: always
 * there) takes it on a file descriptor this process opened and passes to it as fd 3: the lock belongs
 * to the open file description, which this process keeps open after `flock` exits, so this process
 * holds it until it closes the file (or dies). The file says who holds it, for the message of the next.
 */
import { spawn } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";

export const LOCK_FILE = ".edgefleet/lock";

/** Another fill or evict holds the directory: the Job should run again later. */
export class ContentBusyError extends Error {
  override name = "ContentBusyError";
}

export type ContentLock = Readonly<{
  /** How long the lock was waited for: anything read from the API before may be stale. */
  waitedMs: number;
  release(): Promise<void>;
}>;

export type LockOptions = Readonly<{
  /** Who asks, written into the lock file while held: "fill ns/placement (pid 12)". */
  holder: string;
  /** Wait this long for another holder to finish; 0 fails at once when it is held. */
  waitMs: number;
  signal?: AbortSignal | undefined;
  now?: () => Date;
}>;

/** Exit code `flock` gives when the lock stays held (-E), apart from its own errors (1). */
const CONFLICT = 75;

/** Takes the lock of `root`, waiting up to `waitMs`. Throws ContentBusyError naming the holder. */
export async function lockContent(root: string, o: LockOptions): Promise<ContentLock> {
  const path = join(root, LOCK_FILE);
  await mkdir(join(root, ".edgefleet"), { recursive: true });
  const fh = await open(path, "a+", 0o644);
  const started = Date.now();
  try {
    const code = await flock(fh.fd, o.waitMs, o.signal);
    if (code === CONFLICT) {
      const who = (await readFile(path, "utf8").catch(() => "")).trim() || "another process";
      throw new ContentBusyError(
        `content directory ${root} is locked by ${who}; waited ${o.waitMs / 1000} s (${path})`,
      );
    }
    if (code !== 0) throw new Error(`flock ${path} exited ${code}`);
    await fh.truncate(0);
    await fh.write(`${o.holder} since ${(o.now?.() ?? new Date()).toISOString()}\n`, 0);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return {
    waitedMs: Date.now() - started,
    release: async () => {
      // Closing the last descriptor of the open file description releases the flock.
      await fh.truncate(0).catch(() => {});
      await fh.close();
    },
  };
}

/** Runs `flock` on our descriptor as its fd 3; resolves its exit code. */
function flock(fd: number, waitMs: number, signal: AbortSignal | undefined): Promise<number> {
  const wait = waitMs > 0 ? ["--wait", String(waitMs / 1000)] : ["--nonblock"];
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["--exclusive", "--conflict-exit-code", String(CONFLICT), ...wait, "3"], {
      stdio: ["ignore", "ignore", "pipe", fd],
      signal,
    });
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error("flock (util-linux) is not installed: the content directory cannot be locked", { cause: err })
          : err,
      ),
    );
    child.on("exit", (code, sig) => {
      if (code === null) reject(new Error(`flock ended by ${sig}${stderr ? `: ${stderr.trim()}` : ""}`));
      else resolve(code);
    });
  });
}
