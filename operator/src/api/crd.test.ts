import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { crdFileName, crdFor, crdYaml, generatedHeader } from "./crd.js";
import { kinds } from "./kinds.js";
import { repoRoot } from "./testdata/samples.js";

const crdsDir = join(repoRoot, "crds");
const all = Object.values(kinds);

describe("committed CRDs", () => {
  it.each(all.map((k) => ({ file: crdFileName(k), k })))(
    "$file matches the schemas (else: npm run gen:crds)",
    ({ file, k }) => {
      expect(readFileSync(join(crdsDir, file), "utf8")).toBe(crdYaml(k));
    },
  );

  it("are exactly one file per kind", () => {
    const files = readdirSync(crdsDir).filter((f) => f.endsWith(".yaml"));
    expect(files.sort()).toEqual(all.map(crdFileName).sort());
  });

  it("start with the generated header", () => {
    for (const k of all) expect(crdYaml(k).startsWith(generatedHeader)).toBe(true);
  });
});

type Node = { [k: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** Walks a schema the way the structural-schema rules do, yielding each node with its path. */
function* nodes(n: Node, path: string): Generator<[string, Node]> {
  yield [path, n];
  if (isNode(n.properties))
    for (const [k, v] of Object.entries(n.properties)) if (isNode(v)) yield* nodes(v, `${path}.${k}`);
  if (isNode(n.items)) yield* nodes(n.items, `${path}[]`);
  if (isNode(n.additionalProperties)) yield* nodes(n.additionalProperties, `${path}{}`);
}

describe("generated schemas", () => {
  const schemaOf = (k: (typeof all)[number]) => {
    const crd = crdFor(k) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
    const s = crd.spec.versions[0]?.schema.openAPIV3Schema;
    if (!s) throw new Error("no schema");
    return s;
  };

  it.each(all.map((k) => ({ kind: k.kind, k })))("$kind is structural: every node typed, no zod leftovers", ({ k }) => {
    for (const [path, n] of nodes(schemaOf(k), "")) {
      if (n["x-kubernetes-int-or-string"] !== true) expect(n.type, path).toBeTypeOf("string");
      for (const banned of ["anyOf", "oneOf", "allOf", "$schema", "propertyNames", "$ref"])
        expect(n, path).not.toHaveProperty(banned);
      expect(n.additionalProperties, path).not.toBe(false);
    }
  });

  it.each(all.map((k) => ({ kind: k.kind, k })))(
    "$kind bounds every list and string (CEL cost estimates need it)",
    ({ k }) => {
      for (const [path, n] of nodes(schemaOf(k), "")) {
        if (n.type === "array") expect(n.maxItems, path).toBeTypeOf("number");
        if (n.type === "string" && !n.enum && !n.format && ![".apiVersion", ".kind"].includes(path))
          expect(n.maxLength, path).toBeTypeOf("number");
      }
    },
  );

  it.each(all.map((k) => ({ kind: k.kind, k })))(
    "$kind documents every field (kubectl explain reads these descriptions)",
    ({ k }) => {
      const undocumented = [...nodes(schemaOf(k), "")]
        .filter(([path]) => !["", ".metadata"].includes(path) && !path.endsWith("[]") && !path.endsWith("{}"))
        .filter(([, n]) => typeof n.description !== "string" || n.description.length < 10)
        .map(([path]) => path);
      expect(undocumented).toEqual([]);
    },
  );

  it("puts immutability rules where kinds.ts says", () => {
    const yaml = parse(crdYaml(kinds.OCACluster)) as Node;
    const text = JSON.stringify(yaml);
    expect(text).toContain('"rule":"self == oldSelf","message":"region is immutable"');
    expect(text).toContain('"message":"site.asn is immutable"');
  });

  it("gives every kind the edgefleet category, a short name and a status subresource", () => {
    for (const k of all) {
      const crd = crdFor(k) as {
        spec: { names: { categories: string[]; shortNames: string[] }; versions: { subresources: unknown }[] };
      };
      expect(crd.spec.names.categories).toEqual(["edgefleet"]);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
      expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
    }
  });
});
