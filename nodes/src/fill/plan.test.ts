import { describe, expect, it } from "vitest";
import { planEviction, planFill, sourcesFor, spaceNeeded } from "./plan.js";
import type { WantedFile } from "./spec.js";

const f = (path: string, bytes: number, peers: string[] = []): WantedFile => ({
  path,
  bytes,
  sha256: "0".repeat(64),
  peers,
});
const disk = (entries: [string, number][]) => new Map(entries);

describe("planFill", () => {
  it.each([
    {
      name: "empty disk → fetch all",
      wanted: [f("a", 1), f("b", 2)],
      on: [],
      fetch: ["a", "b"],
      present: [],
      evictable: [],
    },
    { name: "all there → nothing", wanted: [f("a", 1)], on: [["a", 1]], fetch: [], present: ["a"], evictable: [] },
    { name: "wrong size → refetch", wanted: [f("a", 10)], on: [["a", 3]], fetch: ["a"], present: [], evictable: [] },
    {
      name: "old placement's files → evictable, not touched",
      wanted: [f("a", 1)],
      on: [
        ["a", 1],
        ["z/old", 5],
      ],
      fetch: [],
      present: ["a"],
      evictable: ["z/old"],
    },
  ] as {
    name: string;
    wanted: WantedFile[];
    on: [string, number][];
    fetch: string[];
    present: string[];
    evictable: string[];
  }[])("$name", ({ wanted, on, fetch, present, evictable }) => {
    const p = planFill(wanted, disk(on), new Set(on.map(([path]) => path)));
    expect(p.fetch.map((x) => x.path)).toEqual(fetch);
    expect(p.present.map((x) => x.path)).toEqual(present);
    expect(p.evictable.map((x) => x.path)).toEqual(evictable);
  });

  it("keeps the caller's order (popularity first)", () => {
    const p = planFill([f("c", 1), f("a", 1), f("b", 1)], disk([]), new Set());
    expect(p.fetch.map((x) => x.path)).toEqual(["c", "a", "b"]);
  });

  it("the right size is not enough: a file whose sha256 is not verified is fetched again", () => {
    const p = planFill(
      [f("a", 5), f("b", 5)],
      disk([
        ["a", 5],
        ["b", 5],
      ]),
      new Set(["b"]),
    );
    expect(p.fetch.map((x) => x.path)).toEqual(["a"]);
    expect(p.present.map((x) => x.path)).toEqual(["b"]);
  });
});

describe("spaceNeeded", () => {
  it.each([
    {
      name: "whole blocks, plus one for each digest record",
      sizes: [1, 4096, 4097],
      partial: [0, 0, 0],
      want: 4096 + 4096 + 8192 + 3 * 4096,
    },
    { name: "less what a partial download already holds", sizes: [10_000], partial: [5000], want: 12288 - 8192 + 4096 },
    { name: "nothing to fetch → nothing", sizes: [], partial: [], want: 0 },
  ])("$name", ({ sizes, partial, want }) => {
    const fetch = sizes.map((bytes) => ({ bytes }));
    expect(spaceNeeded(fetch, (i) => partial[i] ?? 0, 4096)).toBe(want);
  });
});

describe("planEviction", () => {
  it("removes what the active placement does not name, with sizes", () => {
    expect(
      planEviction(
        [{ path: "a" }],
        disk([
          ["b", 7],
          ["a", 1],
          ["c/d", 2],
        ]),
      ),
    ).toEqual([
      { path: "b", bytes: 7 },
      { path: "c/d", bytes: 2 },
    ]);
  });
});

describe("sourcesFor", () => {
  const peers = [
    { name: "oca-2", url: "http://10.0.0.2" },
    { name: "oca-3", url: "http://10.0.0.3:8080" },
  ];
  it("peers holding the file first, signed, then the origin", () => {
    const s = sourcesFor(
      f("t/x.mp4", 1, ["oca-3", "oca-2"]),
      peers,
      "https://origin.example/v",
      (b, u) => `${b}${u}?sig`,
    );
    expect(s).toEqual([
      { name: "peer oca-3", kind: "peer", url: "http://10.0.0.3:8080/t/x.mp4?sig" },
      { name: "peer oca-2", kind: "peer", url: "http://10.0.0.2/t/x.mp4?sig" },
      { name: "origin", kind: "origin", url: "https://origin.example/v/t/x.mp4" },
    ]);
  });
  it("no peer holds it → origin only", () => {
    expect(sourcesFor(f("x", 1), peers, "http://o", () => "")).toEqual([
      { name: "origin", kind: "origin", url: "http://o/x" },
    ]);
  });
});
