// The content directory's lock with the real flock(1) on a real directory: a second holder is refused
// with the first one named, or waits for it; a holder killed with SIGKILL leaves no stale lock.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContentBusyError, lockContent } from "./lock.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-lock-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("lockContent", () => {
  it("a second holder is refused at once, the first one named; once released, it gets the lock", async () => {
    const root = join(dir, "a");
    const first = await lockContent(root, { holder: "fill of ns/p1 for s01 (pid 1)", waitMs: 0 });
    const err = await lockContent(root, { holder: "evict of ns/p0 for s01", waitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentBusyError);
    expect((err as Error).message).toMatch(new RegExp(`content directory ${root} is locked by fill of ns/p1 for s01`));
    await first.release();
    const second = await lockContent(root, { holder: "evict of ns/p0 for s01", waitMs: 0 });
    await second.release();
  });

  it("waits for the holder to finish when asked to, and says it waited", async () => {
    const root = join(dir, "b");
    const first = await lockContent(root, { holder: "fill", waitMs: 0 });
    let settled = false;
    const waiting = lockContent(root, { holder: "evict", waitMs: 60_000 }).finally(() => {
      settled = true;
    });
    // However long the waiter has had, it cannot have the lock while the first holds it.
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await first.release();
    const second = await waiting;
    expect(second.waitedMs).toBeGreaterThan(0);
    await second.release();
  });

  it("a holder killed with SIGKILL releases the lock with its death", async () => {
    const root = join(dir, "c");
    const script = `import { lockContent } from ${JSON.stringify(join(import.meta.dirname, "lock.ts"))};
await lockContent(${JSON.stringify(root)}, { holder: "doomed fill", waitMs: 0 });
process.stdout.write("locked\\n");
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((res, rej) => {
      child.stdout?.on("data", (b: Buffer) => b.toString().includes("locked") && res());
      child.on("exit", (code) => rej(new Error(`the holder exited ${code} before locking`)));
    });
    await expect(lockContent(root, { holder: "next", waitMs: 0 })).rejects.toThrow(/locked by doomed fill/);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    const next = await lockContent(root, { holder: "next", waitMs: 0 });
    await next.release();
  });
});
