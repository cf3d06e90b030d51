/**
 * `npm run e2e:pulumi [-- --json] [--stack eu-west] [--keep]`: a real `pulumi up` of each region's stack
 * against a local control plane of its own (hack/local-cluster.ts, cluster `edgefleet-pulumi-e2e`), with
 * the CLI and the kubernetes provider built from Go modules (hack/bins.sh), a file backend in a scratch
 * directory and no download. For each stack, cycle.ts: bad configs rejected at preview, up, the operator
 * (in this process) planning the sites, a bad up rejected, a servers change previewed and applied,
 * refresh, destroy of an unreachable cluster, destroy. The stacks run one after the other on the one
 * cluster: each leaves nothing behind.
 *
 * With --json the last line is one JSON object: per stack its resources and timings, the preview's
 * changes, the drift refresh found and what destroy left, and every problem found. Exit 1 on a problem.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { clusterDown, clusterUp, ensureBinaries } from "../../hack/local-cluster.js";
import { type CycleDeps, problemsOf, runStack, type StackRun } from "./cycle.js";
import { execIn, inProcessOperator, withFakeNode } from "./harness.js";
import { installPulumi } from "./workspace.js";

const { values: flags } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    stack: { type: "string", multiple: true, default: ["eu-west", "us-east"] },
    keep: { type: "boolean", default: false },
  },
});
const clusterName = "edgefleet-pulumi-e2e";
const log = (line: string) => console.error(`e2e:pulumi: ${line}`);

function summary(runs: readonly StackRun[], problems: readonly string[], seconds: Record<string, number>) {
  return {
    stacks: runs.map((r) => ({
      name: r.name,
      resources: r.resources,
      upMs: r.upMs,
      previewChanges: r.previewSteps.length,
      chartUpgradePreview: r.chartSteps.map((s) => `${s.op} ${s.urn.split("::").at(-1)}`),
      changeUpMs: r.changeUpMs,
      refreshMs: r.refreshMs,
      destroyMs: r.destroyMs,
      slowest: r.slowest,
      clusters: r.exported.clusters,
      rejectedAtPreview: r.rejectedAtPreview.filter((b) => b.failed).length,
      refreshChanges: r.refreshChanges,
      driftFoundAfterKubectlDelete: r.driftControl.length,
      unreachableDestroy: {
        ms: r.unreachable.ms,
        stateKept: r.unreachable.resourcesAfter === r.unreachable.resourcesBefore,
        message: r.unreachable.message,
      },
    })),
    driftAfterRefresh: runs.reduce((n, r) => n + r.drift.length, 0),
    leftAfterDestroy: runs.reduce((n, r) => n + r.left.length, 0),
    problems,
    seconds,
  };
}

async function main(): Promise<number> {
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), "edgefleet-pulumi-"));
  const runs: StackRun[] = [];
  const problems: string[] = [];
  try {
    const install = await installPulumi(dir, randomBytes(16).toString("hex"));
    seconds.install = Math.round(performance.now() - t0) / 1000;
    // A run killed midway (or --keep) leaves its cluster and objects behind; the cycle needs an empty one.
    await clusterDown(clusterName);
    const cluster = await clusterUp(clusterName);
    seconds.cluster = Math.round(performance.now() - t0) / 1000 - seconds.install;
    const { kubectl } = await ensureBinaries(["kubectl"]);
    const exec = execIn(kubectl, cluster.kubeconfig);
    const deps: CycleDeps = {
      install,
      kubeconfig: cluster.kubeconfig,
      kubectl: exec,
      startOperator: inProcessOperator(cluster.kubeconfig),
      log,
      signingKey: randomBytes(32).toString("hex"),
    };
    await withFakeNode(exec, "edgefleet-pulumi-e2e", async () => {
      for (const stack of flags.stack) {
        const r = await runStack(deps, stack);
        runs.push(r);
        problems.push(...problemsOf(r));
      }
    });
  } catch (err) {
    problems.push(`e2e:pulumi: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (!flags.keep) await clusterDown(clusterName).catch((e: unknown) => log(`cluster down: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
  seconds.total = Math.round(performance.now() - t0) / 1000;
  for (const p of problems) console.error(p);
  const s = summary(runs, problems, seconds);
  if (flags.json) console.log(JSON.stringify(s));
  else
    for (const r of s.stacks)
      log(
        `${r.name}: ${r.resources} resources, up ${r.upMs} ms, preview ${r.previewChanges} change, destroy ${r.destroyMs} ms`,
      );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
