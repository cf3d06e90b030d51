import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";
import { type Files, runPlan } from "./plan.js";

const sample = readFileSync(new URL("../../../crds/samples/ocaclusters.yaml", import.meta.url), "utf8");

function memory(initial: Record<string, string>): Files & { files: Map<string, string> } {
  const files = new Map(Object.entries(initial));
  return {
    files,
    read: async (p) => {
      const t = files.get(p);
      if (t === undefined) throw new Error(`ENOENT: no such file, open '${p}'`);
      return t;
    },
    write: async (p, t) => {
      files.set(p, t);
    },
  };
}

const base = { clusterFile: "c.yaml", clusterName: "ams-polder-1", catalog: "synthetic:files=3000,alpha=1" };

describe("edgefleet plan", () => {
  it("reports weights, bytes, use and traffic per server, and writes the SVG and the Placement", async () => {
    const fs = memory({ "c.yaml": sample });
    const text = await runPlan({ ...base, svg: "o.svg", out: "p.yaml" }, fs);
    expect(text).toMatch(/cutoff D\* = \d+/);
    for (const s of ["s01", "s02", "s03", "s04", "f01", "f02"]) expect(text).toMatch(new RegExp(`^${s} `, "m"));
    expect(fs.files.get("o.svg")).toMatch(/^<svg[\s\S]*uniform ring[\s\S]*HCA[\s\S]*<\/svg>\n$/);
    expect(fs.files.get("p.yaml")).toMatch(/kind: Placement/);
  });

  it("shows churn against a previous plan, zero when nothing changed", async () => {
    const fs = memory({ "c.yaml": sample });
    await runPlan({ ...base, out: "p.yaml" }, fs);
    const text = await runPlan({ ...base, previous: "p.yaml" }, fs);
    expect(text).toMatch(/churn against the previous plan .*: 0\.00 TB in 0 files/);
  });

  it("reads a JSON catalog file and ranks it", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ key: `t${i}/a.mp4`, bytes: 1e9 + i, demand: i % 7 }));
    const fs = memory({ "c.yaml": sample, "cat.json": JSON.stringify(rows) });
    expect(await runPlan({ ...base, catalog: "cat.json" }, fs)).toMatch(/stored 40 of 40 files/);
  });

  it.each([
    {
      name: "a missing file",
      args: ["plan", "-f", "nope.yaml", "--catalog", "synthetic:files=10,alpha=1"],
      msg: /-f nope\.yaml: cannot read/,
    },
    {
      name: "no -f",
      args: ["plan", "--catalog", "synthetic:files=10,alpha=1"],
      msg: /-f: the OCACluster YAML file is required/,
    },
    { name: "an unknown subcommand", args: ["apply"], msg: /unknown subcommand "apply"/ },
    { name: "an unknown option", args: ["plan", "--bogus"], msg: /bogus/ },
    {
      name: "a bad synthetic spec",
      args: ["plan", "-f", "c.yaml", "--cluster", "ams-polder-1", "--catalog", "synthetic:files=0,alpha=1"],
      msg: /--catalog synthetic:files=0,alpha=1: \.files: /,
    },
    {
      name: "a bad catalog row",
      args: ["plan", "-f", "c.yaml", "--cluster", "ams-polder-1", "--catalog", "bad.json"],
      msg: /bad\.json: \[1\]\.bytes: /,
    },
    {
      name: "an invalid OCACluster field",
      args: ["plan", "-f", "broken.yaml", "--catalog", "synthetic:files=10,alpha=1"],
      msg: /broken\.yaml: spec\.serverClasses\[0\]\.storage: /,
    },
    {
      name: "several clusters and no --cluster",
      args: ["plan", "-f", "c.yaml", "--catalog", "synthetic:files=10,alpha=1"],
      msg: /choose one with --cluster/,
    },
  ])("rejects $name with one line and exit code 2", async ({ args, msg }) => {
    const broken = sample.split("\n---\n")[0]?.replace("storage: 200Ti", "storage: lots") ?? "";
    const fs = memory({
      "c.yaml": sample,
      "broken.yaml": broken,
      "bad.json": JSON.stringify([
        { key: "a", bytes: 1, demand: 1 },
        { key: "b", bytes: -1, demand: 1 },
      ]),
    });
    const errs: string[] = [];
    const code = await main(
      args,
      () => {},
      (s) => errs.push(s),
      fs,
    );
    expect(code).toBe(2);
    expect(errs.join("\n")).toMatch(msg);
    expect(errs.join("\n")).not.toMatch(/\n\s+at /);
  });
});
