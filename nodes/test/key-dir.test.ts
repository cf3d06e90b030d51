// operator/src/runtime/key-dir.ts against a directory laid out as the kubelet mounts a Secret (harness.ts writeLinkKeys).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { readKeyDir, watchKeyDir } from "../../operator/src/runtime/key-dir.js";
import { parseClusterKeys } from "../../operator/src/steering/link-keys.js";
import { edgeKeyEntries, MASTER, writeLinkKeys } from "./harness.js";

const stop = new AbortController();
afterEach(() => stop.abort());

describe("a mounted Secret's keys", () => {
  it("reads the entries through ..data, leaving the kubelet's own out", async () => {
    const dir = await writeLinkKeys(await mkdtemp(join(tmpdir(), "key-dir-")), { "k1.key": "a", primary: "k1" });
    const entries = await readKeyDir(dir);
    expect([...entries.keys()]).toEqual(["k1.key", "primary"]);
    expect(entries.get("primary")?.toString()).toBe("k1");
    await rm(dir, { recursive: true, force: true });
  });

  it("sees a kid added as the kubelet swaps the files, and keeps its keys through a bad change", async () => {
    const dir = await writeLinkKeys(await mkdtemp(join(tmpdir(), "key-dir-")), edgeKeyEntries());
    const log = pino({ level: "silent" });
    const w = await watchKeyDir(dir, parseClusterKeys, { intervalMs: 20, log, signal: stop.signal });
    let changes = 0;
    w.onChange(() => changes++);
    expect([...w.current().keys.keys()]).toEqual(["k1"]);
    const M2 = Buffer.from("key-dir-master-k2-0123456789abcdefgh");
    await writeLinkKeys(dir, edgeKeyEntries({ k1: MASTER, k2: M2 }));
    await expect.poll(() => [...w.current().keys.keys()]).toEqual(["k1", "k2"]);
    expect(changes).toBe(1);
    await writeLinkKeys(dir, { "k1.key": "not-a-key", primary: "k1" });
    await new Promise((r) => setTimeout(r, 100));
    expect([...w.current().keys.keys()]).toEqual(["k1", "k2"]);
    expect(changes).toBe(1);
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses to start without keys that parse", async () => {
    const dir = await writeLinkKeys(await mkdtemp(join(tmpdir(), "key-dir-")), { "k1.key": "short" });
    const log = pino({ level: "silent" });
    await expect(watchKeyDir(dir, parseClusterKeys, { intervalMs: 20, log, signal: stop.signal })).rejects.toThrow(
      /k1\.key/,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
