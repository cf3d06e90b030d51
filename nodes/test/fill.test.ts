// The fetch pipeline against a real origin (node:http on loopback), a real peer (nginx serving the
// peer's content dir with signed URLs) and the real disk. The agent process (fill from the API, killed
// with SIGKILL and resumed) is tested against the real API server in test/integration/edge-agent.test.ts.

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partialPath, scanContent } from "../src/fill/disk.js";
import type { FileResult } from "../src/fill/fetch-file.js";
import { runEvict, runFill, type StatFs } from "../src/fill/run.js";
import { type FillSpecInput, parseFillSpec } from "../src/fill/spec.js";
import {
  edgeKeyEntries,
  type Origin,
  type RunningNginx,
  startNginx,
  startOrigin,
  tempDir,
  writeLinkKeys,
} from "./harness.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let dir: string;
let origin: Origin;
let peer: RunningNginx;
/** A peer whose disk holds none of the files: it answers 404, as a peer the placements guessed wrong about. */
let emptyPeer: RunningNginx;
const blobs = new Map<string, Buffer>();

async function put(root: string, path: string, b: Buffer) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), b);
}
const entry = (path: string, peers: string[] = []) => {
  const b = blobs.get(path);
  if (!b) throw new Error(`no blob ${path}`);
  return { path, bytes: b.length, sha256: sha(b), peers };
};

beforeAll(async () => {
  dir = await tempDir("edge-fill-");
  for (const [p, n] of [
    ["t1/a.mp4", 1_500_000],
    ["t1/b.mp4", 3 * 1024 * 1024],
    ["t2/c.m4s", 70_000],
    ["t2/empty.m4s", 0],
    ["t3/bad.mp4", 500_000],
    ["t4/peer-only.mp4", 2_000_000],
    ["t5/big.mp4", 6 * 1024 * 1024],
    // The small disk's nights: an old placement's files, the Active one's, and the new one's churn.
    ...[0, 1, 2].map((i) => [`churn/old-${i}.mp4`, 600 * 1024] as const),
    ...[0, 1].map((i) => [`churn/active-${i}.mp4`, 500 * 1024] as const),
    ...[0, 1].map((i) => [`churn/new-${i}.mp4`, 700 * 1024] as const),
  ] as const) {
    blobs.set(p, randomBytes(n));
  }
  const originRoot = join(dir, "origin");
  for (const [p, b] of blobs) if (p !== "t4/peer-only.mp4") await put(originRoot, p, b);
  // The origin's copy of bad.mp4 is corrupt: one flipped byte, same size.
  const bad = Buffer.from(blobs.get("t3/bad.mp4") ?? Buffer.alloc(0));
  bad[1234] = (bad[1234] ?? 0) ^ 0xff;
  await put(originRoot, "t3/bad.mp4", bad);
  origin = await startOrigin(originRoot);

  const peerRoot = join(dir, "peer", "content");
  await put(peerRoot, "t4/peer-only.mp4", blobs.get("t4/peer-only.mp4") ?? Buffer.alloc(0));
  peer = await startNginx(join(dir, "peer"), peerRoot);
  await mkdir(join(dir, "empty-peer", "content"), { recursive: true });
  emptyPeer = await startNginx(join(dir, "empty-peer"), join(dir, "empty-peer", "content"));
  await writeLinkKeys(join(dir, "link-keys"), edgeKeyEntries());
});

afterAll(async () => {
  await peer?.stop();
  await emptyPeer?.stop();
  await origin?.stop();
  await rm(dir, { recursive: true, force: true });
});

const spec = (
  contentPath: string,
  files: ReturnType<typeof entry>[],
  over: Partial<FillSpecInput> = {},
): FillSpecInput => ({
  server: "oca-1",
  contentPath,
  linkKeysDir: join(dir, "link-keys"),
  sources: {
    origin: origin.url,
    peers: [
      { name: "oca-2", url: peer.http },
      { name: "oca-3", url: emptyPeer.http },
    ],
  },
  files,
  ...over,
});
const deps = { now: () => new Date(), idleTimeoutMs: 10_000 };
const requestsFor = (path: string) => origin.requests.filter((r) => r.path === `/${path}`);

describe("fill", () => {
  it("fills an empty disk byte-exact, then a re-run fetches nothing", async () => {
    const content = join(dir, "c-empty");
    const files = ["t1/a.mp4", "t1/b.mp4", "t2/c.m4s", "t2/empty.m4s"].map((p) => entry(p));
    const report = await runFill(parseFillSpec(spec(content, files, { bandwidthCap: "10Gbps" })), deps);
    expect(report.filled).toEqual({
      files: 4,
      bytes: 1_500_000 + 3 * 1024 * 1024 + 70_000,
      downloadedBytes: 1_500_000 + 3 * 1024 * 1024 + 70_000,
    });
    expect(report.failed.files).toBe(0);
    for (const f of files)
      expect((await readFile(join(content, f.path))).equals(blobs.get(f.path) ?? Buffer.alloc(1))).toBe(true);
    expect(await readdir(join(content, ".edgefleet", "partial"))).toEqual([]);

    const seen = origin.requests.length;
    const again = await runFill(parseFillSpec(spec(content, files)), deps);
    expect(again.present.files).toBe(4);
    expect(again.filled.files).toBe(0);
    expect(origin.requests.length).toBe(seen);
  });

  it("a corrupt origin file is never published, and is reported as failed", async () => {
    const content = join(dir, "c-bad");
    const report = await runFill(parseFillSpec(spec(content, [entry("t3/bad.mp4"), entry("t2/c.m4s")])), deps);
    expect(report.filled.files).toBe(1);
    expect(report.failed).toMatchObject({ files: 1, bytes: 500_000 });
    expect(report.failed.items[0]?.path).toBe("t3/bad.mp4");
    expect(report.failed.items[0]?.reason).toMatch(/origin: sha256 mismatch/);
    await expect(stat(join(content, "t3/bad.mp4"))).rejects.toThrow(/ENOENT/);
    await expect(stat(partialPath(content, entry("t3/bad.mp4")))).rejects.toThrow(/ENOENT/);
  });

  it("fills from a peer's nginx (signed URL) before the origin, and falls back to the origin where the peer lacks it", async () => {
    const content = join(dir, "c-peer");
    const before = requestsFor("t1/a.mp4").length;
    const results: FileResult[] = [];
    const report = await runFill(
      parseFillSpec(
        spec(content, [entry("t4/peer-only.mp4", ["oca-2"]), entry("t1/a.mp4", ["oca-2"])], { concurrency: 1 }),
      ),
      { ...deps, onFile: (r) => results.push(r) },
    );
    expect(report.failed.files).toBe(0);
    expect(results.map((r) => (r.status === "filled" ? r.source : r.reason))).toEqual(["peer oca-2", "origin"]);
    expect(requestsFor("t4/peer-only.mp4")).toEqual([]);
    expect(requestsFor("t1/a.mp4").length).toBe(before + 1);
    expect(
      (await readFile(join(content, "t4/peer-only.mp4"))).equals(blobs.get("t4/peer-only.mp4") ?? Buffer.alloc(1)),
    ).toBe(true);
    expect(report.downloadedFrom).toEqual({ peers: 2_000_000, origin: 1_500_000 });
  });

  it("a peer without the file answers 404: the fetch moves on to the next peer, then the origin, and the file does not fail", async () => {
    const content = join(dir, "c-404");
    const results: FileResult[] = [];
    const report = await runFill(
      parseFillSpec(
        spec(content, [entry("t4/peer-only.mp4", ["oca-3", "oca-2"]), entry("t2/c.m4s", ["oca-3"])], {
          concurrency: 1,
        }),
      ),
      { ...deps, onFile: (r) => results.push(r) },
    );
    expect(report.failed).toEqual({ files: 0, bytes: 0, items: [] });
    expect(report.filled.files).toBe(2);
    expect(results).toMatchObject([
      {
        path: "t4/peer-only.mp4",
        status: "filled",
        source: "peer oca-2",
        skipped: ["peer oca-3: HTTP 404"],
        downloaded: 2_000_000,
        downloadedFrom: { peers: 2_000_000, origin: 0 },
      },
      {
        path: "t2/c.m4s",
        status: "filled",
        source: "origin",
        skipped: ["peer oca-3: HTTP 404"],
        downloadedFrom: { peers: 0, origin: 70_000 },
      },
    ]);
    expect(report.downloadedFrom).toEqual({ peers: 2_000_000, origin: 70_000 });
    for (const p of ["t4/peer-only.mp4", "t2/c.m4s"])
      expect(sha(await readFile(join(content, p))), p).toBe(sha(blobs.get(p) ?? Buffer.alloc(0)));
  });
});

describe("evict after promotion", () => {
  it("removes what the promoted placement does not name, and stale partials; keeps the rest", async () => {
    const content = join(dir, "c-evict");
    const all = ["t1/a.mp4", "t2/c.m4s", "t2/empty.m4s"].map((p) => entry(p));
    await runFill(parseFillSpec(spec(content, all)), deps);
    await writeFile(join(content, ".edgefleet", "partial", "stale.part"), "x");
    const promoted = parseFillSpec(spec(content, [entry("t1/a.mp4")]));
    const fillReport = await runFill(promoted, deps);
    expect(fillReport.evictable).toEqual({ files: 2, bytes: 70_000 });
    expect((await scanContent(content)).size).toBe(3); // fill never deletes

    const report = await runEvict({ ...promoted, keep: promoted.files });
    expect(report.evicted).toEqual({ files: 2, bytes: 70_000 });
    expect(report.partialsRemoved).toBe(1);
    expect([...(await scanContent(content)).keys()]).toEqual(["t1/a.mp4"]);
    await expect(stat(join(content, "t2"))).rejects.toThrow(/ENOENT/);
  });
});

describe("a file counts as present only when its sha256 is known to match", () => {
  it("a file of the right size with other bytes is fetched again; one without a record is hashed once, then trusted", async () => {
    const content = join(dir, "c-digest");
    const files = ["t1/a.mp4", "t2/c.m4s"].map((p) => entry(p));
    await runFill(parseFillSpec(spec(content, files)), deps);
    // Flip a byte in place: same size, same inode (the record's mtime no longer matches).
    const fh = await open(join(content, "t1/a.mp4"), "r+");
    await fh.write(Buffer.from([0xff ^ (blobs.get("t1/a.mp4")?.[10] ?? 0)]), 0, 1, 10);
    await fh.close();
    // As an agent from before digest records left it: no record at all.
    await rm(join(content, ".edgefleet/sha256/t2/c.m4s"));
    const before = requestsFor("t1/a.mp4").length;
    const r = await runFill(parseFillSpec(spec(content, files)), deps);
    expect(r.filled.files).toBe(1);
    expect(r.present.files).toBe(1);
    expect(r.rehashed).toBe(2);
    expect(requestsFor("t1/a.mp4").length).toBe(before + 1);
    expect(sha(await readFile(join(content, "t1/a.mp4")))).toBe(entry("t1/a.mp4").sha256);
    const again = await runFill(parseFillSpec(spec(content, files)), deps);
    expect({ present: again.present.files, rehashed: again.rehashed }).toEqual({ present: 2, rehashed: 0 });
  });
});

describe("before it fetches, the fill removes what no kept Placement names", () => {
  it("removes an old placement's files and stale partials, keeps the Active one's and its own", async () => {
    const content = join(dir, "c-clean");
    const old = entry("churn/old-0.mp4");
    const active = entry("churn/active-0.mp4");
    await runFill(parseFillSpec(spec(content, [old, active])), deps);
    await writeFile(join(content, ".edgefleet/partial/stale.part"), "x");
    const r = await runFill(parseFillSpec(spec(content, [entry("t2/c.m4s")])), { ...deps, keep: [active] });
    expect(r.removed).toEqual({ files: 1, bytes: old.bytes, partials: 1 });
    expect(r.evictable).toEqual({ files: 1, bytes: active.bytes });
    expect([...(await scanContent(content)).keys()].sort()).toEqual(["churn/active-0.mp4", "t2/c.m4s"]);
    await expect(stat(join(content, ".edgefleet/sha256/churn/old-0.mp4"))).rejects.toThrow(/ENOENT/);
  });
});

/**
 * A small disk: a 3 MiB tmpfs where the test may mount one (root), else a real directory whose free
 * space statfs reports as 3 MiB less what it holds (in 4 KiB blocks).
 */
async function smallDisk(
  root: string,
  bytes: number,
): Promise<{ statfs?: StatFs; kind: string; done: () => Promise<void> }> {
  await mkdir(root, { recursive: true });
  const run = promisify(execFile);
  const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", root]).then(
    () => true,
    () => false,
  );
  if (mounted) return { kind: "tmpfs", done: () => run("umount", ["-l", root]).then(() => undefined) };
  const used = async (d: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) n += await used(p);
      else n += Math.ceil((await stat(p)).size / 4096) * 4096;
    }
    return n;
  };
  const statfs: StatFs = async (p) => ({ bsize: 4096, bavail: Math.max(0, bytes - (await used(p))) / 4096 });
  return { statfs, kind: "statfs", done: async () => {} };
}

describe("a disk too small for naive churn", () => {
  it("converges: the fill deletes what no kept Placement names first, then fits, where filling first would not", async () => {
    const disk = await smallDisk(join(dir, "c-small"), 3 * 1024 * 1024);
    try {
      const content = join(dir, "c-small");
      const old = [0, 1, 2].map((i) => entry(`churn/old-${i}.mp4`));
      const active = [0, 1].map((i) => entry(`churn/active-${i}.mp4`));
      const next = [active[0], ...[0, 1].map((i) => entry(`churn/new-${i}.mp4`))].filter((f) => f !== undefined);
      const d = { ...deps, statfs: disk.statfs };
      // Last night's evict never ran: yesterday's files and today's Active ones fill the disk.
      const before = await runFill(parseFillSpec(spec(content, [...old, ...active])), d);
      expect(before.failed.files).toBe(0);

      // Filling first (nothing known to keep, so nothing deleted): refused before a byte is written.
      const naive = await runFill(parseFillSpec(spec(content, next)), d);
      expect(naive.space.enough).toBe(false);
      expect(naive.filled.files).toBe(0);
      expect(await readdir(join(content, ".edgefleet/partial"))).toEqual([]);
      const churn = next.filter((f) => f.path.startsWith("churn/new")).reduce((a, f) => a + f.bytes, 0);
      expect(naive.space.needBytes).toBeGreaterThan(naive.space.freeBytes);

      // With the Active placement's files to keep, yesterday's go first, and the churn fits.
      const r = await runFill(parseFillSpec(spec(content, next)), { ...d, keep: active });
      expect(r.removed.files).toBe(3);
      expect(r.space.enough).toBe(true);
      expect(r.failed.files).toBe(0);
      expect(r.filled).toMatchObject({ files: 2, bytes: churn });
      expect([...(await scanContent(content)).keys()].sort()).toEqual(
        [...active, ...next]
          .map((f) => f.path)
          .filter((p, i, a) => a.indexOf(p) === i)
          .sort(),
      );
      console.error(
        `small disk (${disk.kind}, 3 MiB): ${churn} bytes of churn refused with ${naive.space.freeBytes} free; after removing ${r.removed.bytes} bytes it fit (${r.space.freeBytes} free)`,
      );
    } finally {
      await disk.done();
    }
  });
});
