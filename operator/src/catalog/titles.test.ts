import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mustParse, type Title, type TitleFile } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import { describeConflicts, pathConflicts, regionTitles, TitlePaths } from "./titles.js";

const base = mustParse("Title", sample("Title", "night-harbor"));
const video: TitleFile = base.spec.files.find((f) => f.kind === "video") ?? fail("no video file in the sample");
function fail(why: string): never {
  throw new Error(why);
}

/** A Title created at minute `created`, in `regions`, with one video file per path. */
function title(name: string, created: number, regions: string[], paths: string[]): Title {
  return {
    ...base,
    metadata: { name, namespace: "ns", creationTimestamp: `2026-01-01T00:${String(created).padStart(2, "0")}:00Z` },
    spec: { ...base.spec, id: name, regions, files: paths.map((path) => ({ ...video, path })) },
  };
}

describe("pathConflicts and regionTitles", () => {
  const a = title("a", 1, ["eu"], ["x/1.mp4", "x/2.mp4"]);
  const b = title("b", 2, ["eu", "us"], ["y/1.mp4", "x/2.mp4"]);
  const c = title("c", 3, ["eu"], ["y/1.mp4", "z/1.mp4"]);

  it.each([
    { name: "the older keeps its path", t: a, want: [] },
    {
      name: "the later-created is left out of the shared region only",
      t: b,
      want: [{ region: "eu", path: "x/2.mp4", index: 1, other: "a" }],
    },
    {
      name: "pairwise: an older title blocks a newer one even when it is itself left out",
      t: c,
      want: [{ region: "eu", path: "y/1.mp4", index: 0, other: "b" }],
    },
  ])("$name", ({ t, want }) => {
    expect(pathConflicts(t, [a, b, c])).toEqual(want);
  });

  it("the catalog of each region takes exactly the titles without a conflict there", () => {
    expect(regionTitles("eu", [c, b, a]).map((t) => t.metadata.name)).toEqual(["a"]);
    expect(regionTitles("us", [c, b, a]).map((t) => t.metadata.name)).toEqual(["b"]);
  });

  it("names the path, the other title and the region", () => {
    expect(describeConflicts(pathConflicts(b, [a]))).toBe(
      `spec.files[1].path: "x/2.mp4" is also a file of Title a, created earlier; left out of region eu's catalog`,
    );
  });

  it("same creation second: the name decides", () => {
    const early = title("early", 5, ["eu"], ["p.mp4"]);
    const late = title("late", 5, ["eu"], ["p.mp4"]);
    expect(pathConflicts(early, [late])).toEqual([]);
    expect(pathConflicts(late, [early])).toHaveLength(1);
  });

  it("agree on random titles: a title is left out of a region's catalog iff it has a conflict in that region", () => {
    const arb = fc.array(
      fc.record({
        created: fc.integer({ min: 0, max: 9 }),
        regions: fc.subarray(["eu", "us"], { minLength: 1 }),
        paths: fc.uniqueArray(fc.constantFrom("p1", "p2", "p3", "p4", "p5", "p6"), { minLength: 1, maxLength: 3 }),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(arb, (specs) => {
        const ts = specs.map((s, i) => title(`t${i}`, s.created, s.regions, s.paths));
        for (const region of ["eu", "us"]) {
          const taken = new Set(regionTitles(region, ts).map((t) => t.metadata.name));
          for (const t of ts.filter((x) => x.spec.regions.includes(region))) {
            const conflicted = pathConflicts(t, ts).some((c) => c.region === region);
            expect(taken.has(t.metadata.name)).toBe(!conflicted);
          }
        }
      }),
    );
  });
});

describe("TitlePaths", () => {
  it("wakes the titles sharing a path it named before or names now, per namespace", () => {
    const idx = new TitlePaths();
    expect(idx.update("ns/a", ["p", "q"])).toEqual([]);
    expect(idx.update("ns/b", ["q"])).toEqual(["ns/a"]);
    expect(idx.update("other/c", ["q"])).toEqual([]);
    expect(idx.sharing("ns/a")).toEqual(["ns/b"]);
    // a drops q: b's conflict may go, so b is woken, and no longer shares with a.
    expect(idx.update("ns/a", ["p"])).toEqual(["ns/b"]);
    expect(idx.sharing("ns/b")).toEqual([]);
    // a is deleted (or becomes invalid): nothing names p any more.
    expect(idx.update("ns/b", ["p"])).toEqual(["ns/a"]);
    expect(idx.update("ns/a", [])).toEqual(["ns/b"]);
    expect(idx.sharing("ns/b")).toEqual([]);
  });
});
