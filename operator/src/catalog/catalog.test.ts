import { describe, expect, it } from "vitest";
import { mustParse } from "../api/index.js";
import { loadSamples } from "../api/testdata/samples.js";
import { buildLadder } from "../ladder/index.js";
import { regionCatalog } from "./catalog.js";

const all = loadSamples().map((s) => s.object);
const titles = all.filter((o) => o.kind === "Title").map((o) => mustParse("Title", o));
const pops = all.filter((o) => o.kind === "Popularity").map((o) => mustParse("Popularity", o));
const eu = pops.find((p) => p.spec.region === "eu-west");

describe("regionCatalog", () => {
  it("places only ladder files of the region's titles, ranked by demand, ties by key", () => {
    if (!eu) throw new Error("no eu-west popularity sample");
    const { files } = regionCatalog("eu-west", titles, eu);
    const inRegion = titles.filter((t) => t.spec.regions.includes("eu-west"));
    const ladderFiles = inRegion.flatMap((t) =>
      buildLadder(t.spec.files).flatMap((e) => e.rungs.map((r) => `${t.spec.id}/${r.path}`)),
    );
    expect(files.map((f) => f.key).sort()).toEqual(ladderFiles.sort());
    for (let i = 1; i < files.length; i++) {
      const [a, b] = [files[i - 1], files[i]];
      if (!a || !b) continue;
      expect(a.demand > b.demand || (a.demand === b.demand && a.key < b.key)).toBe(true);
    }
  });

  it("splits a title's plays over its video rungs and over its audio files", () => {
    if (!eu) throw new Error("no eu-west popularity sample");
    const [id, plays] = Object.entries(eu.spec.demand)[0] ?? [];
    const t = titles.find((x) => x.spec.id === id);
    if (!t || plays === undefined) throw new Error("sample popularity names no sample title");
    const { files } = regionCatalog("eu-west", titles, eu);
    const of = (kind: string) => {
      const paths = new Set(t.spec.files.filter((f) => f.kind === kind).map((f) => `${t.spec.id}/${f.path}`));
      return files.filter((f) => paths.has(f.key)).reduce((a, f) => a + f.demand, 0);
    };
    expect(of("video")).toBeCloseTo(plays, 6);
    expect(of("audio")).toBeCloseTo(plays, 6);
  });

  it("names the snapshot: same inputs, same generation; other demand, other generation", () => {
    if (!eu) throw new Error("no eu-west popularity sample");
    const a = regionCatalog("eu-west", titles, eu);
    expect(regionCatalog("eu-west", [...titles].reverse(), eu).generation).toBe(a.generation);
    const [id] = Object.keys(eu.spec.demand);
    const changed = { ...eu, spec: { ...eu.spec, demand: { ...eu.spec.demand, [id ?? ""]: 1 } } };
    expect(regionCatalog("eu-west", titles, changed).generation).not.toBe(a.generation);
    expect(a.generation).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(a.generation.length).toBeLessThanOrEqual(63);
  });
});

describe("regionCatalog with a forecast", () => {
  it("ranks a title by its forecast where the snapshot has one, else by its demand", () => {
    if (!eu) throw new Error("no eu-west popularity sample");
    const ids = Object.entries(eu.spec.demand).sort((a, b) => a[1] - b[1]);
    const [coldest, plays] = ids[0] ?? [];
    if (coldest === undefined || plays === undefined) throw new Error("empty sample popularity");
    const top = Math.max(...ids.map(([, p]) => p));
    const withForecast = { ...eu, spec: { ...eu.spec, forecast: { [coldest]: 10 * top } } };
    const { files } = regionCatalog("eu-west", titles, withForecast);
    expect(files[0]?.key.startsWith(`${coldest}/`)).toBe(true);
    const before = regionCatalog("eu-west", titles, eu);
    expect(regionCatalog("eu-west", titles, withForecast).generation).not.toBe(before.generation);
  });
});
