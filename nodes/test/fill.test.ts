// The fetch pipeline against a real origin (node:http on loopback), a real peer (nginx serving the
// peer's content dir with signed URLs) and the real disk. The agent process (fill from the API, killed
// with SIGKILL and resumed) is tested against the real API server in test/integration/edge-agent.test.ts.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partialPath, scanContent } from "../src/fill/disk.js";
import type { FileResult } from "../src/fill/fetch-file.js";
import { runEvict, runFill } from "../src/fill/run.js";
import { type FillSpecInput, parseFillSpec } from "../src/fill/spec.js";
import { type Origin, type RunningNginx, SECRET, startNginx, startOrigin, tempDir } from "./harness.js";

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
  await writeFile(join(dir, "secret"), `${SECRET}\n`);
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
  secretPath: join(dir, "secret"),
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

    const report = await runEvict(promoted);
    expect(report.evicted).toEqual({ files: 2, bytes: 70_000 });
    expect(report.partialsRemoved).toBe(1);
    expect([...(await scanContent(content)).keys()]).toEqual(["t1/a.mp4"]);
    await expect(stat(join(content, "t2"))).rejects.toThrow(/ENOENT/);
  });
});
