import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mustParse, type TitleFile, TitleStatus } from "../api/index.js";
import { loadSamples } from "../api/testdata/samples.js";
import { buildLadder, totalBytes, upperHull } from "./hull.js";

type P = { x: number; y: number };
const hullOf = (ps: P[]): P[] =>
  upperHull(
    ps,
    (p) => p.x,
    (p) => p.y,
  );

describe("upperHull", () => {
  it.each([
    { name: "empty", ps: [], want: [] },
    { name: "one point", ps: [{ x: 1, y: 1 }], want: [{ x: 1, y: 1 }] },
    {
      name: "point under the chord is dropped",
      ps: [
        { x: 0, y: 0 },
        { x: 2, y: 1 },
        { x: 4, y: 4 },
      ],
      want: [
        { x: 0, y: 0 },
        { x: 4, y: 4 },
      ],
    },
    {
      name: "concave curve is kept whole, in x order",
      ps: [
        { x: 4, y: 90 },
        { x: 1, y: 50 },
        { x: 2, y: 75 },
      ],
      want: [
        { x: 1, y: 50 },
        { x: 2, y: 75 },
        { x: 4, y: 90 },
      ],
    },
    {
      name: "collinear middle point is dropped",
      ps: [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ],
      want: [
        { x: 0, y: 0 },
        { x: 2, y: 2 },
      ],
    },
    {
      name: "dominated point (more bits, less quality) is dropped",
      ps: [
        { x: 1, y: 60 },
        { x: 2, y: 80 },
        { x: 3, y: 70 },
      ],
      want: [
        { x: 1, y: 60 },
        { x: 2, y: 80 },
      ],
    },
    {
      name: "same bitrate keeps the better quality",
      ps: [
        { x: 1, y: 40 },
        { x: 1, y: 55 },
        { x: 3, y: 80 },
      ],
      want: [
        { x: 1, y: 55 },
        { x: 3, y: 80 },
      ],
    },
  ])("$name", ({ ps, want }) => expect(hullOf(ps)).toEqual(want));

  // Integer coordinates keep the turn test exact, so the properties do not hinge on rounding.
  const points = fc.array(fc.record({ x: fc.integer({ min: 1, max: 20_000 }), y: fc.integer({ min: 0, max: 100 }) }), {
    maxLength: 60,
  });

  it("rises in both coordinates with falling slopes", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const h = hullOf(ps);
        for (let i = 1; i < h.length; i++) {
          const [a, b] = [h[i - 1] as P, h[i] as P];
          expect(b.x).toBeGreaterThan(a.x);
          expect(b.y).toBeGreaterThan(a.y);
          const c = h[i + 1];
          if (c) expect((c.y - b.y) * (b.x - a.x)).toBeLessThan((b.y - a.y) * (c.x - b.x));
        }
      }),
    );
  });

  it("has every point on or below it, and picks only input points", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const h = hullOf(ps);
        for (const p of h) expect(ps).toContain(p);
        for (const p of ps) {
          const right = h.findIndex((q) => q.x >= p.x);
          const r = h[right];
          if (!r) {
            expect(p.y).toBeLessThanOrEqual((h.at(-1) as P).y); // beyond the last rung: no better quality
            continue;
          }
          const l = h[right - 1];
          const bound = r.x === p.x || !l ? r.y : l.y + ((r.y - l.y) * (p.x - l.x)) / (r.x - l.x);
          expect(p.y).toBeLessThanOrEqual(bound + 1e-9);
        }
      }),
    );
  });

  it("starts at the cheapest bitrate", () => {
    fc.assert(
      fc.property(points, (ps) => {
        const h = hullOf(ps);
        if (ps.length > 0) expect(h[0]?.x).toBe(Math.min(...ps.map((p) => p.x)));
      }),
    );
  });
});

function video(codec: TitleFile["codec"], resolution: string, kbps: number, vmaf: number): TitleFile {
  return {
    path: `v/${codec}-${resolution}-${kbps}.mp4`,
    bytes: kbps * 125 * 60,
    sha256: "0".repeat(64),
    kind: "video",
    codec,
    resolution,
    bitrateKbps: kbps,
    vmaf,
  };
}
const audio = (codec: TitleFile["codec"], kbps: number): TitleFile => ({
  path: `a/${codec}-${kbps}.mp4`,
  bytes: kbps * 125 * 60,
  sha256: "0".repeat(64),
  kind: "audio",
  codec,
  bitrateKbps: kbps,
});

describe("buildLadder", () => {
  it("groups by kind and codec and drops renditions under the hull", () => {
    const files = [
      audio("aac", 128),
      video("hevc", "1920x1080", 3000, 93),
      video("h264", "640x360", 600, 62),
      video("h264", "1280x720", 1800, 84),
      video("h264", "640x360", 1800, 70), // 360p at 1800 loses to 720p at 1800
      video("h264", "1920x1080", 4300, 93),
      video("h264", "1280x720", 4300, 90),
      audio("aac", 64),
      { ...audio("aac", 128), path: "a/aac-128-nl.mp4" },
    ];
    const ladder = buildLadder(files);
    expect(ladder.map((e) => `${e.kind}/${e.codec}`)).toEqual(["video/h264", "video/hevc", "audio/aac"]);
    expect(ladder[0]?.rungs.map((r) => `${r.resolution}@${r.bitrateKbps}`)).toEqual([
      "640x360@600",
      "1280x720@1800",
      "1920x1080@4300",
    ]);
    expect(ladder[2]?.rungs.map((r) => r.path)).toEqual(["a/aac-64.mp4", "a/aac-128-nl.mp4", "a/aac-128.mp4"]);
    expect(ladder[2]?.rungs[0]).toEqual({ path: "a/aac-64.mp4", bitrateKbps: 64 });
  });

  it("sums bytes", () => {
    expect(totalBytes([audio("aac", 64), audio("opus", 96)])).toBe((64 + 96) * 125 * 60);
  });
});

describe("ladders of the sample titles", () => {
  const titles = loadSamples()
    .filter((s) => s.object.kind === "Title")
    .map((s) => mustParse("Title", s.object));

  it.each(titles.map((t) => ({ id: t.spec.id, t })))("$id: status validates, hull drops some renditions", ({ t }) => {
    const ladder = buildLadder(t.spec.files);
    const status = { ladder, totalBytes: totalBytes(t.spec.files), fileCount: t.spec.files.length };
    expect(TitleStatus.safeParse(status).success).toBe(true);
    const videoRungs = ladder.filter((e) => e.kind === "video").flatMap((e) => e.rungs);
    const videoFiles = t.spec.files.filter((f) => f.kind === "video");
    expect(videoRungs.length).toBeGreaterThan(videoFiles.length / 2);
    expect(videoRungs.length).toBeLessThan(videoFiles.length);
    expect(ladder.map((e) => `${e.kind}/${e.codec}`)).toEqual([
      "video/av1",
      "video/h264",
      "video/hevc",
      "audio/aac",
      "audio/eac3",
      "text/webvtt",
    ]);
  });
});
