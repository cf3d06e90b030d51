/**
 * The chart ships exactly the generated CRDs: `tsx hack/chart-crds.ts` copies crds/*.yaml into
 * charts/edgefleet/crds/ (and removes any file there that crds/ no longer has); `--check` only
 * reports drift and exits 1. crds/ stays the one source of truth (`npm run gen:crds` writes it).
 */
import { copyFile, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
export const sourceDir = join(repo, "crds");
export const chartCrdDir = join(repo, "charts", "edgefleet", "crds");

const yamlFiles = async (dir: string) =>
  (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith(".yaml"))
    .map((e) => e.name)
    .sort();

/** Every difference between crds/*.yaml and the chart's copy, one line each; empty when in sync. */
export async function chartCrdDrift(from = sourceDir, to = chartCrdDir): Promise<string[]> {
  const [want, have] = await Promise.all([yamlFiles(from), yamlFiles(to)]);
  const problems: string[] = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`${f}: missing from the chart`);
    else if ((await readFile(join(from, f), "utf8")) !== (await readFile(join(to, f), "utf8")))
      problems.push(`${f}: differs from crds/${f}`);
  }
  for (const f of have) if (!want.includes(f)) problems.push(`${f}: in the chart but not in crds/`);
  return problems;
}

/** Makes the chart's crds/ an exact copy of crds/*.yaml; returns what it changed. */
export async function syncChartCrds(from = sourceDir, to = chartCrdDir): Promise<string[]> {
  const problems = await chartCrdDrift(from, to);
  const want = await yamlFiles(from);
  for (const f of await yamlFiles(to)) if (!want.includes(f)) await rm(join(to, f));
  for (const f of want) await copyFile(join(from, f), join(to, f));
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const problems = check ? await chartCrdDrift() : await syncChartCrds();
  for (const p of problems) console.log(check ? `drift: ${p}` : `synced: ${p}`);
  if (check && problems.length > 0) {
    console.error("charts/edgefleet/crds/ drifted from crds/: run `npx tsx hack/chart-crds.ts`");
    process.exit(1);
  }
}
