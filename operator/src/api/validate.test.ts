import { describe, expect, it } from "vitest";
import { checkUpdate, formatPath, type KindName, kindNames, mustParse, parseObject, ValidationError } from "./index.js";
import { maxPlacementServers, maxTokens } from "./placement.js";
import { invalidObjects } from "./testdata/invalid-objects.js";
import { loadSamples, sample } from "./testdata/samples.js";

const asKind = (k: string): KindName => {
  if (!(kindNames as string[]).includes(k)) throw new Error(`unknown kind ${k}`);
  return k as KindName;
};

describe("samples", () => {
  const samples = loadSamples();

  it("cover every kind, two regions, both site types and a dozen titles", () => {
    const of = (k: string) => samples.map((s) => s.object).filter((o) => o.kind === k);
    const clusters = of("OCACluster").map((o) => mustParse("OCACluster", o));
    expect(new Set(clusters.map((c) => c.spec.region))).toEqual(new Set(["eu-west", "us-east"]));
    expect(new Set(clusters.map((c) => c.spec.site.type))).toEqual(new Set(["embedded", "ixp"]));
    expect(of("Title").length).toBeGreaterThanOrEqual(12);
    expect(of("Popularity").map((o) => mustParse("Popularity", o).spec.region)).toEqual(["eu-west", "us-east"]);
  });

  it.each(samples.map((s) => ({ name: `${s.file}: ${s.object.kind}/${s.object.metadata.name}`, s })))(
    "$name is valid",
    ({ s }) => {
      const r = parseObject(asKind(s.object.kind), s.object);
      expect(r.ok ? [] : r.errors).toEqual([]);
    },
  );

  it("title file sizes follow bitrate × duration", () => {
    for (const { object } of samples.filter((s) => s.object.kind === "Title")) {
      const t = mustParse("Title", object);
      for (const f of t.spec.files)
        expect(f.bytes).toBe(Math.round((f.bitrateKbps * 1000 * t.spec.durationSeconds) / 8));
    }
  });

  it("popularity names only sample titles of the same region", () => {
    const titles = samples.filter((s) => s.object.kind === "Title").map((s) => mustParse("Title", s.object).spec);
    for (const { object } of samples.filter((s) => s.object.kind === "Popularity")) {
      const p = mustParse("Popularity", object).spec;
      for (const id of Object.keys(p.demand)) expect(titles.find((t) => t.id === id)?.regions).toContain(p.region);
    }
  });
});

describe("invalid objects", () => {
  it("number at least 30", () => expect(invalidObjects().length).toBeGreaterThanOrEqual(30));

  it.each(invalidObjects())("$kind: $name → $path", ({ kind, path, object }) => {
    const r = parseObject(asKind(kind), object);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(path);
  });

  it("time zone names the API server can only shape-check are rejected by zod", () => {
    const o = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));
    o.spec.fill.window.timeZone = "Europe/Atlantis";
    const r = parseObject("OCACluster", o);
    expect(r.ok ? [] : r.errors).toEqual([{ path: "spec.fill.window.timeZone", message: "unknown IANA time zone" }]);
  });
});

describe("parseObject", () => {
  it("applies defaults", () => {
    const o = mustParse("OCACluster", sample("OCACluster", "iad-hudson-1"));
    const { hca: _, ...spec } = o.spec;
    const r = mustParse("OCACluster", { ...o, spec });
    expect(r.spec.hca).toEqual({ cutoff: "auto", hysteresis: 0.05 });
    expect(r.spec.prefixes[0]?.med).toBe(0);
  });

  it("rejects a wrong kind or apiVersion by field", () => {
    const o = { ...sample("Title", "night-harbor"), kind: "OCACluster", apiVersion: "cdn.edgefleet.dev/v1" };
    const r = parseObject("Title", o);
    expect(r.ok ? [] : r.errors.map((e) => e.path).sort()).toEqual(["apiVersion", "kind"]);
  });

  it("mustParse throws a ValidationError listing each field", () => {
    const o = mustParse("Placement", sample("Placement", "ams-polder-1-2026-08-14"));
    o.spec.cutoff = -1;
    expect(() => mustParse("Placement", o)).toThrow(ValidationError);
    expect(() => mustParse("Placement", o)).toThrow(/invalid Placement "ams-polder-1-2026-08-14": spec.cutoff: /);
  });
});

describe("formatPath", () => {
  it.each([
    { path: [], want: "" },
    { path: ["spec", "servers", 1, "class"], want: "spec.servers[1].class" },
    { path: ["spec", "asPath", 0, 2], want: "spec.asPath[0][2]" },
  ])("$want", ({ path, want }) => expect(formatPath(path)).toBe(want));
});

describe("checkUpdate", () => {
  const cluster = () => mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));

  it.each([
    { name: "region", edit: (s: { region: string }) => (s.region = "eu-north"), want: ["spec.region"] },
    { name: "ASN", edit: (s: { site: { asn: number } }) => (s.site.asn = 64501), want: ["spec.site.asn"] },
    { name: "ISP name (mutable)", edit: (s: { site: { isp: string } }) => (s.site.isp = "Polder"), want: [] },
  ])("OCACluster $name", ({ edit, want }) => {
    const before = cluster();
    const after = structuredClone(before);
    edit(after.spec as never);
    expect(checkUpdate("OCACluster", before, after).map((e) => e.path)).toEqual(want);
  });

  it("Placement spec is immutable as a whole", () => {
    const before = mustParse("Placement", sample("Placement", "ams-polder-1-2026-08-14"));
    const after = structuredClone(before);
    after.spec.cutoff += 1;
    expect(checkUpdate("Placement", before, after)).toEqual([
      { path: "spec", message: "spec is immutable; create a new object instead" },
    ]);
    expect(checkUpdate("Placement", before, structuredClone(before))).toEqual([]);
  });
});

describe("Placement size", () => {
  it("stays far below etcd's 1.5 MiB at the most servers and tokens the schema allows", () => {
    const name = "s".repeat(63);
    const servers = Array.from({ length: maxPlacementServers }, (_, i) => ({
      name: `${i}`.padStart(63, name),
      headTokens: maxTokens,
      tailTokens: maxTokens,
    }));
    const p = mustParse("Placement", {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Placement",
      metadata: { name: "x".repeat(253), namespace: "n".repeat(63) },
      spec: { cluster: "c".repeat(63), catalogGeneration: "g".repeat(63), cutoff: 2 ** 40, servers },
      status: {
        phase: "Active",
        servers: servers.map((s) => ({ name: s.name, expectedBytes: 2 ** 52, trafficShare: 0.123456789012345 })),
      },
    });
    const bytes = Buffer.byteLength(JSON.stringify(p));
    expect(bytes).toBeLessThan(0.25 * 1.5 * 2 ** 20); // 1,000 servers; 200 servers is a fifth of this
  });
});
