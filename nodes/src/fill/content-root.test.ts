// The content-root marker and the digest records, on a real directory.
import { mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkContentRoot, claimable, MARKER, markContentRoot, NotContentRootError } from "./content-root.js";
import { DIGEST_DIR, digestOf, recordDigest, recordedDigest, removeDigest } from "./digest.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-root-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function put(root: string, rel: string, data: string) {
  await mkdir(join(root, rel, ".."), { recursive: true });
  await writeFile(join(root, rel), data);
}

describe("the content-root marker", () => {
  it.each([
    { name: "a directory that does not exist yet", setup: async (_r: string) => {}, want: "claimable" },
    {
      name: "an empty disk (lost+found only)",
      setup: (r: string) => mkdir(join(r, "lost+found"), { recursive: true }),
      want: "claimable",
    },
    {
      name: "a disk an agent filled before markers (.edgefleet/partial)",
      setup: async (r: string) => {
        await put(r, "t/a.mp4", "x");
        await mkdir(join(r, ".edgefleet/partial"), { recursive: true });
      },
      want: "claimable",
    },
    {
      name: "a marked one",
      setup: async (r: string) => {
        await put(r, "t/a.mp4", "x");
        await put(r, MARKER, "");
      },
      want: "marked",
    },
  ])("a fill may use $name", async ({ setup, want }) => {
    const root = join(dir, `ok-${want}-${Math.random().toString(36).slice(2)}`);
    await setup(root);
    expect(await claimable(root)).toBe(want);
  });

  it("a fill refuses a directory with files of its own and no marker, naming it and a file", async () => {
    const root = join(dir, "var-lib");
    await put(root, "mysql/ibdata1", "precious");
    const err = await claimable(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotContentRootError);
    expect((err as Error).message).toContain(`${root} holds files (mysql/ibdata1, …) but no ${MARKER}`);
    await expect(stat(join(root, ".edgefleet"))).rejects.toThrow(/ENOENT/);
  });

  it("evict refuses a directory without the marker, naming the path; with it, goes on", async () => {
    const root = join(dir, "evict");
    await put(root, "t/a.mp4", "x");
    await expect(checkContentRoot(root)).rejects.toThrow(`${root} has no ${MARKER}`);
    await mkdir(join(root, ".edgefleet"), { recursive: true });
    await markContentRoot(root, "fill of ns/p1", new Date(0));
    await expect(checkContentRoot(root)).resolves.toBeUndefined();
    expect(await readFile(join(root, MARKER), "utf8")).toContain("first filled by fill of ns/p1");
  });
});

describe("digest records", () => {
  const sha = "a".repeat(64);

  it("hold while the file is the one recorded; a change to it (size, mtime, inode) makes the digest unknown", async () => {
    const root = join(dir, "digest");
    await put(root, "t/a.mp4", "abc");
    await recordDigest(root, "t/a.mp4", sha);
    expect(await recordedDigest(root, "t/a.mp4")).toBe(sha);
    await utimes(join(root, "t/a.mp4"), new Date(1000), new Date(1000));
    expect(await recordedDigest(root, "t/a.mp4")).toBeUndefined();
    await recordDigest(root, "t/a.mp4", sha);
    // Same size, new content, put in place by rename (as any copy tool does): another inode.
    await put(root, "t/a.mp4.new", "abd");
    await rename(join(root, "t/a.mp4.new"), join(root, "t/a.mp4"));
    expect(await recordedDigest(root, "t/a.mp4")).toBeUndefined();
  });

  it("an unknown digest is hashed again, and recorded for the next fill", async () => {
    const root = join(dir, "rehash");
    await put(root, "t/b.mp4", "abc");
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(await digestOf(root, "t/b.mp4")).toEqual({ sha256: abc, rehashed: true });
    expect(await digestOf(root, "t/b.mp4")).toEqual({ sha256: abc, rehashed: false });
    await removeDigest(root, "t/b.mp4");
    await expect(stat(join(root, DIGEST_DIR, "t"))).rejects.toThrow(/ENOENT/);
  });
});
