/**
 * The dependency directions (STYLE.md §1): pure parts at the bottom, processes at the top, and the edge
 * agent (nodes/) beside the operator rather than inside it. Each area names the areas it may import;
 * an import anywhere else is a failure that names the file and the import.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(new URL(import.meta.url).pathname), "../..");

type Area =
  | "api"
  | "placement"
  | "ladder"
  | "catalog"
  | "edge"
  | "steering"
  | "runtime"
  | "controllers"
  | "cli"
  | "process"
  | "nodes"
  | "signing";

/** The area of a repository path, or undefined for what no rule covers (node_modules, bench/, hack/…). */
function areaOf(path: string): Area | undefined {
  if (path === "operator/src/steering/sign-url.ts" || path === "operator/src/steering/link-keys.ts") return "signing";
  if (path.startsWith("nodes/")) return "nodes";
  const m = /^operator\/src\/(?:([a-z]+)\/)?/.exec(path);
  if (!m) return undefined;
  const dir = m[1];
  if (dir === undefined) return "process"; // operator.ts and the tests beside it
  return dir as Area;
}

/** Who may import whom, besides itself. Everything may import packages. */
const allowed: Record<Area, readonly Area[]> = {
  api: [],
  placement: [],
  ladder: ["api"],
  catalog: ["api", "ladder", "placement"],
  // Signed URLs: steering hands them out, nginx (edge/) checks them, the operator derives each cluster's
  // keys (controllers/), fills use them between peers.
  edge: ["api", "signing"],
  signing: [],
  steering: ["api", "placement", "catalog", "ladder", "signing", "runtime"],
  runtime: ["api"],
  controllers: ["api", "placement", "catalog", "ladder", "edge", "runtime", "signing"],
  process: ["api", "placement", "catalog", "ladder", "edge", "runtime", "controllers", "signing"],
  cli: ["api", "placement", "catalog", "ladder", "edge", "runtime", "controllers", "steering", "signing", "process"],
  // The agent shares the contracts with the operator; it never reaches into its controllers.
  nodes: ["api", "placement", "catalog", "edge", "runtime", "signing"],
};

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) yield* files(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)|(?:^|\n)import\s+"([^"]+)"/g;

function importsOf(path: string): string[] {
  const text = readFileSync(join(root, path), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith(".")) out.push(relative(root, resolve(root, dirname(path), spec)).replace(/\.js$/, ".ts"));
  }
  return out;
}

function violations(): string[] {
  const out: string[] = [];
  for (const path of [...files("operator/src"), ...files("nodes")]) {
    const from = areaOf(path);
    if (from === undefined) continue;
    for (const target of importsOf(path)) {
      const to = areaOf(target);
      if (to === undefined || to === from || allowed[from].includes(to)) continue;
      out.push(`${path} (${from}) imports ${target} (${to})`);
    }
  }
  return out;
}

describe("dependency directions", () => {
  it("every import goes where its area may go", () => {
    expect(violations()).toEqual([]);
  });

  it("knows each file's area", () => {
    const paths = ["controllers/edge", "steering/rank", "steering/sign-url", "operator"].map(
      (p) => `operator/src/${p}.ts`,
    );
    expect([...paths, "nodes/src/main.ts", "bench/operator.ts"].map(areaOf)).toEqual([
      "controllers",
      "steering",
      "signing",
      "process",
      "nodes",
      undefined,
    ]);
  });

  it("sees imports, re-exports and dynamic imports", () => {
    expect(importsOf("operator/src/api/index.ts")).toContain("operator/src/api/validate.ts");
    expect(importsOf("operator/src/controllers/edge-plan.ts")).toContain("operator/src/edge/nginx-config.ts");
  });

  it("neither nodes/ nor controllers/ imports the other, nor steering/ the controllers", () => {
    const pairs = [
      ["nodes", "controllers"],
      ["controllers", "nodes"],
      ["steering", "controllers"],
    ] as const;
    for (const [from, to] of pairs) expect(allowed[from]).not.toContain(to);
  });
});
