/**
 * The CRDs on a real API server: they install and become Established, every sample applies
 * server-side, the printer columns, short names and category work, and each invalid object is
 * rejected by the API server and by zod, both naming the same field.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkUpdate, type KindName, kindNames, mustParse, parseObject } from "../../operator/src/api/index.js";
import { invalidObjects } from "../../operator/src/api/testdata/invalid-objects.js";
import { repoRoot, sample, samplesDir } from "../../operator/src/api/testdata/samples.js";
import { eventually, installCrds, kubectl, kubectlOk } from "./kube.js";

const ns = `crds-${process.pid}`;
const sampleFiles = readdirSync(samplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => join(samplesDir, f));

const asKind = (k: string): KindName => {
  if (!(kindNames as string[]).includes(k)) throw new Error(`unknown kind ${k}`);
  return k as KindName;
};

/** True when `text` names `path` as a whole field: not as the prefix of a longer path. */
function namesField(text: string, path: string): boolean {
  for (let i = text.indexOf(path); i >= 0; i = text.indexOf(path, i + 1)) {
    const after = text[i + path.length] ?? "";
    if (!/[A-Za-z0-9_.[\]-]/.test(after) || after === "]") return true;
  }
  return false;
}

const applyJSON = (obj: unknown, ...extra: string[]) =>
  kubectl(["apply", "--server-side", "--field-manager=crds-test", "-n", ns, ...extra, "-f", "-"], JSON.stringify(obj));

beforeAll(async () => {
  await installCrds();
  await kubectlOk(["create", "namespace", ns]);
  // Discovery can lag Established by a moment; wait until the new resources resolve by short name.
  await eventually(
    async () => ((await kubectl(["get", "oca,tt,plc,pop", "-n", ns])).code === 0 ? true : undefined),
    "discovery",
  );
});

describe("samples", () => {
  it.each(sampleFiles.map((f) => ({ file: f.slice(repoRoot.length + 1), f })))(
    "$file applies server-side",
    async ({ f }) => {
      const out = await kubectlOk(["apply", "--server-side", "--field-manager=crds-test", "-n", ns, "-f", f]);
      expect(out).toMatch(/serverside-applied/);
    },
  );

  it("list under the edgefleet category and short names", async () => {
    const all = await kubectlOk(["get", "edgefleet", "-n", ns, "-o", "name"]);
    for (const want of [
      "ocacluster.cdn.edgefleet.dev/ams-polder-1",
      "ocacluster.cdn.edgefleet.dev/iad-hudson-1",
      "title.cdn.edgefleet.dev/night-harbor",
      "placement.cdn.edgefleet.dev/ams-ix-1-2026-08-14",
      "popularity.cdn.edgefleet.dev/us-east",
    ])
      expect(all).toContain(want);
    expect((await kubectlOk(["get", "tt", "-n", ns, "-o", "name"])).trim().split("\n")).toHaveLength(12);
    expect((await kubectlOk(["get", "plc", "-n", ns, "-o", "name"])).trim().split("\n")).toHaveLength(3);
  });

  it("round-trip through the API server into objects zod accepts, defaults included", async () => {
    const list = JSON.parse(await kubectlOk(["get", "oca,tt,plc,pop", "-n", ns, "-o", "json"])) as { items: unknown[] };
    expect(list.items.length).toBe(3 + 12 + 3 + 2);
    for (const o of list.items) {
      const kind = asKind((o as { kind: string }).kind);
      const r = parseObject(kind, o);
      expect(r.ok ? [] : r.errors).toEqual([]);
    }
  });

  it("show printer columns, filled from status written through the status subresource", async () => {
    const status = {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "OCACluster",
      metadata: { name: "ams-polder-1" },
      status: {
        observedGeneration: 1,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "ServersHealthy",
            message: "6 of 6 servers heartbeating",
            lastTransitionTime: "2026-08-14T02:00:00Z",
          },
        ],
        capacity: { servers: 6, readyServers: 6, storage: "836Ti", throughput: "360Gbps" },
        activePlacement: "ams-polder-1-2026-08-14",
      },
    };
    const spec = mustParse("OCACluster", sample("OCACluster", "ams-polder-1")).spec;
    expect(parseObject("OCACluster", { ...status, spec }).ok).toBe(true);
    const r = await applyJSON(status, "--subresource=status");
    expect(r.stderr).toBe("");
    const table = await kubectlOk(["get", "oca", "-n", ns, "-o", "wide"]);
    const [header, ...rows] = table.trim().split("\n");
    expect(header?.split(/\s+/)).toEqual([
      "NAME",
      "READY",
      "REGION",
      "SITE",
      "ISP",
      "SERVERS",
      "STORAGE",
      "THROUGHPUT",
      "PLACEMENT",
      "AGE",
    ]);
    const polder = rows.find((l) => l.startsWith("ams-polder-1 "))?.split(/\s{2,}/);
    expect(polder?.slice(0, 8)).toEqual([
      "ams-polder-1",
      "True",
      "eu-west",
      "embedded",
      "Polder Telecom",
      "6",
      "836Ti",
      "360Gbps",
    ]);
    expect(rows.find((l) => l.startsWith("ams-ix-1 "))).toMatch(/eu-west\s+ixp\s+AMS-IX/);
  });
});

describe("invalid objects are rejected by the API server and by zod at the same field", () => {
  it.each(invalidObjects())("$kind: $name → $path", async ({ kind, path, object }) => {
    const zod = parseObject(asKind(kind), object);
    expect(zod.ok ? [] : zod.errors.map((e) => e.path)).toContain(path);

    const r = await applyJSON(object, "--dry-run=server");
    expect(r.code, r.stdout).not.toBe(0);
    expect(namesField(r.stderr, path), r.stderr).toBe(true);
  });
});

describe("immutable fields", () => {
  it.each([
    {
      kind: "OCACluster" as const,
      name: "ams-polder-1",
      path: "spec.region",
      edit: (s: { region: string }) => (s.region = "eu-north"),
    },
    {
      kind: "OCACluster" as const,
      name: "ams-ix-1",
      path: "spec.site.asn",
      edit: (s: { site: { asn: number } }) => (s.site.asn = 64499),
    },
    {
      kind: "Title" as const,
      name: "paper-moons",
      path: "spec.id",
      edit: (s: { id: string }) => (s.id = "paper-suns"),
    },
    {
      kind: "Placement" as const,
      name: "iad-hudson-1-2026-08-14",
      path: "spec",
      edit: (s: { cutoff: number }) => (s.cutoff = 2100),
    },
    {
      kind: "Popularity" as const,
      name: "us-east",
      path: "spec.region",
      edit: (s: { region: string }) => (s.region = "us-west"),
    },
  ])("$kind/$name: changing $path is rejected on update", async ({ kind, name, path, edit }) => {
    const before = mustParse(kind, sample(kind, name));
    const after = structuredClone(before);
    edit(after.spec as never);
    expect(checkUpdate(kind, before, after).map((e) => e.path)).toEqual([path]);

    const r = await applyJSON(after, "--dry-run=server");
    expect(r.code).not.toBe(0);
    expect(namesField(r.stderr, path), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/immutable/);
  });

  it("a mutable field (the ISP's name) may change", async () => {
    const after = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));
    after.spec.site.isp = "Polder Telecom B.V.";
    const r = await applyJSON(after, "--dry-run=server");
    expect(r.stderr).toBe("");
  });
});

it("time zones: the API server checks the shape only, zod also the zone database", async () => {
  const o = mustParse("OCACluster", sample("OCACluster", "iad-hudson-1"));
  o.spec.fill.window.timeZone = "Europe/Atlantis";
  o.metadata = { name: "atlantis" };
  expect((await applyJSON(o, "--dry-run=server")).code).toBe(0);
  expect(parseObject("OCACluster", o).ok).toBe(false);
});

/** The fields `kubectl explain <path> --recursive` lists under `path`, as dotted paths, parents first. */
function explainedPaths(recursive: string, root: string): string[] {
  const fields = recursive.split("FIELDS:\n")[1] ?? "";
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of fields.split("\n")) {
    const m = /^( +)([A-Za-z0-9_-]+)\t</.exec(line);
    if (!m?.[1] || !m[2]) continue; // blank lines, "enum: …"
    const depth = m[1].length / 2 - 1;
    stack.length = depth;
    stack.push(m[2]);
    out.push(`${root}.${stack.join(".")}`);
  }
  return out;
}

/** Each field kubectl explain lists directly under `path`, with its description ("" when none). */
function explainedFields(explain: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of (explain.split("FIELDS:\n")[1] ?? "").split("\n")) {
    const field = /^ {2}([A-Za-z0-9_-]+)\t</.exec(line)?.[1];
    if (field) {
      current = field;
      fields.set(field, "");
    } else if (current && /^ {4}\S/.test(line) && line.trim() !== "<no description>")
      fields.set(current, `${fields.get(current)} ${line.trim()}`.trim());
  }
  return fields;
}

describe("kubectl explain", () => {
  const roots = kindNames.flatMap((k) => ["spec", "status"].map((part) => ({ kind: k.toLowerCase(), part })));

  it.each(roots)("documents every field of $kind $part", async ({ kind, part }) => {
    const recursive = await kubectlOk(["explain", `${kind}.${part}`, "--recursive"]);
    const paths = explainedPaths(recursive, part);
    expect(paths.length).toBeGreaterThan(2);
    // A parent's plain `explain` prints each child's description; every field is some parent's child.
    const parents = [part, ...paths.filter((p) => paths.some((q) => q.startsWith(`${p}.`)))];
    const undocumented: string[] = [];
    for (const parent of parents) {
      const fields = explainedFields(await kubectlOk(["explain", `${kind}.${parent}`]));
      for (const [name, description] of fields) if (description === "") undocumented.push(`${parent}.${name}`);
      expect(fields.size, parent).toBeGreaterThan(0);
    }
    expect(undocumented).toEqual([]);
  });

  it("gives units and examples, e.g. for ocacluster.spec.fill.window", async () => {
    const out = await kubectlOk(["explain", "ocacluster.spec.fill.window"]);
    expect(out).toContain('"02:00"');
    expect(out).toContain("Europe/Amsterdam");
    expect(await kubectlOk(["explain", "ocacluster.spec.serverClasses"])).toMatch(/200Ti[\s\S]*40Gbps/);
  });
});
