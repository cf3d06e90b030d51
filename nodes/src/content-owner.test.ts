import { lstat, mkdir, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir as harnessTempDir } from "../test/harness.js";
import { ownContent } from "./content-owner.js";

const owner = { uid: 4242, gid: 4343 };
const made: string[] = [];
const tempDir = async (prefix: string) => {
  const d = await harnessTempDir(prefix);
  made.push(d);
  return d;
};
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));
const ownerOf = async (p: string) => {
  const s = await lstat(p);
  return [s.uid, s.gid];
};

describe.skipIf(process.getuid?.() !== 0)("ownContent (needs root, as its container runs)", () => {
  it("creates a missing directory and hands it over", async () => {
    const root = join(await tempDir("own-"), "content");
    expect(await ownContent(root, owner)).toBe(1);
    expect((await stat(root)).isDirectory()).toBe(true);
    expect(await ownerOf(root)).toEqual([4242, 4343]);
  });

  it("hands over a root-owned tree, files before their directories, never following a symlink", async () => {
    const root = await tempDir("own-");
    await mkdir(join(root, "t/video"), { recursive: true });
    await writeFile(join(root, "t/video/a.mp4"), "a");
    await mkdir(join(root, ".edgefleet/partial"), { recursive: true });
    const outside = join(await tempDir("outside-"), "secret");
    await writeFile(outside, "x");
    await symlink(outside, join(root, "t/link"));
    expect(await ownContent(root, owner)).toBe(7);
    for (const p of ["", "t", "t/video", "t/video/a.mp4", ".edgefleet", ".edgefleet/partial", "t/link"])
      expect(await ownerOf(join(root, p)), p).toEqual([4242, 4343]);
    expect(await readlink(join(root, "t/link"))).toBe(outside);
    expect(await ownerOf(outside)).toEqual([0, 0]);
  });

  it("leaves alone what is already the edge user's: a second run changes nothing", async () => {
    const root = await tempDir("own-");
    await mkdir(join(root, "t"), { recursive: true });
    await writeFile(join(root, "t/a.mp4"), "a");
    expect(await ownContent(root, owner)).toBe(3);
    expect(await ownContent(root, owner)).toBe(0);
  });
});
