import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chartCrdDrift, syncChartCrds } from "./chart-crds.js";

describe("charts/edgefleet/crds", () => {
  it("holds exactly the generated CRDs of crds/ (run `tsx hack/chart-crds.ts` after `npm run gen:crds`)", async () => {
    expect(await chartCrdDrift()).toEqual([]);
  });
});

describe("chartCrdDrift / syncChartCrds", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), "chart-crds-"));
    dirs.push(d);
    return d;
  };

  it("reports a missing, a changed and an extra file, then sync removes the drift", async () => {
    const [from, to] = [await tmp(), await tmp()];
    await writeFile(join(from, "a.yaml"), "kind: A\n");
    await writeFile(join(from, "b.yaml"), "kind: B\n");
    await writeFile(join(to, "b.yaml"), "kind: B # edited by hand\n");
    await writeFile(join(to, "old.yaml"), "kind: Old\n");
    await writeFile(join(from, "README.md"), "not a CRD\n");
    expect(await chartCrdDrift(from, to)).toEqual([
      "a.yaml: missing from the chart",
      "b.yaml: differs from crds/b.yaml",
      "old.yaml: in the chart but not in crds/",
    ]);
    await syncChartCrds(from, to);
    expect(await chartCrdDrift(from, to)).toEqual([]);
    expect(await readFile(join(to, "b.yaml"), "utf8")).toBe("kind: B\n");
  });
});
