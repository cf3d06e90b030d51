import { describe, expect, it } from "vitest";
import { PlacementInputError } from "../types.js";
import { validateCatalog } from "../validate.js";
import { driftCatalog, generateCatalog, LADDER_SIZE } from "./synthetic-catalog.js";

describe("generateCatalog", () => {
  it("is deterministic from the seed and ranked by demand", () => {
    const a = generateCatalog({ files: 2400, alpha: 0.9, seed: 5 });
    expect(generateCatalog({ files: 2400, alpha: 0.9, seed: 5 })).toEqual(a);
    expect(generateCatalog({ files: 2400, alpha: 0.9, seed: 6 }).files).not.toEqual(a.files);
    expect(a.files).toHaveLength(2400);
    expect(a.titles).toHaveLength(2400 / LADDER_SIZE);
    expect(() => validateCatalog(a.files)).not.toThrow();
  });

  it.each([
    { alpha: 0.6, topTitleShare: [0.005, 0.03] },
    { alpha: 1.2, topTitleShare: [0.15, 0.3] },
  ])("concentrates plays by α = $alpha", ({ alpha, topTitleShare }) => {
    const { titles } = generateCatalog({ files: 24_000, alpha, seed: 1 });
    const total = titles.reduce((s, t) => s + t.popularity, 0);
    const share = (titles[0]?.popularity ?? 0) / total;
    expect(share).toBeGreaterThan(topTitleShare[0] ?? 0);
    expect(share).toBeLessThan(topTitleShare[1] ?? 1);
  });

  it.each([
    { spec: { files: 0, alpha: 1, seed: 1 }, msg: /files/ },
    { spec: { files: 10, alpha: -1, seed: 1 }, msg: /alpha/ },
    { spec: { files: 10, alpha: 1, seed: 0.5 }, msg: /seed/ },
  ])("rejects $spec", ({ spec, msg }) => {
    expect(() => generateCatalog(spec)).toThrow(PlacementInputError);
    expect(() => generateCatalog(spec)).toThrow(msg);
  });
});

describe("driftCatalog", () => {
  it("perturbs popularity, adds releases near the head, and stays ranked", () => {
    const day0 = generateCatalog({ files: 24_000, alpha: 1, seed: 1 });
    const day1 = driftCatalog(day0, 1, { sigma: 0.1, releases: 0.01, seed: 3 });
    expect(day1.titles).toHaveLength(day0.titles.length + 10);
    expect(driftCatalog(day0, 1, { sigma: 0.1, releases: 0.01, seed: 3 })).toEqual(day1);
    expect(() => validateCatalog(day1.files)).not.toThrow();
    const firstNew = day1.files.findIndex((f) => f.key.startsWith("d001"));
    expect(firstNew).toBeLessThan(day1.files.length / 10);
  });

  it("keeps the Zipf(α) shape from day to day while titles trade places", () => {
    let c = generateCatalog({ files: 24_000, alpha: 1.2, seed: 1 });
    const day0 = c.titles.map((t) => t.id);
    for (let d = 1; d <= 7; d++) c = driftCatalog(c, d, { sigma: 0.1, releases: 0.01, seed: 3 });
    const popularity = c.titles.map((t) => t.popularity).sort((a, b) => b - a);
    popularity.forEach((p, r) => {
      expect(p).toBeCloseTo((r + 1) ** -1.2, 12);
    });
    const byInterest = [...c.titles].sort((a, b) => b.interest - a.interest);
    expect(byInterest.map((t) => t.popularity)).toEqual(popularity);
    const ranked = [...c.titles].sort((a, b) => b.popularity - a.popularity).map((t) => t.id);
    expect(ranked.slice(0, 1000)).not.toEqual(day0.slice(0, 1000));
  });
});
