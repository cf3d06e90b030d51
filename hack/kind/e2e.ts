/**
 * `npm run e2e:kind [-- --json] [--keep] [--cluster NAME] [--workers N] [--if-docker]`: the fleet on real
 * nodes. Starts Docker Engine (installing it from Debian when missing), builds the kind node image and
 * the app images offline, creates a fresh kind cluster `edgefleet-e2e` (one control-plane node, N edge
 * workers, 3 by default: the ISP site's two servers and the IX site's one; with --cluster, that cluster is used as it is, created if missing), loads the images, runs the e2e suite (test/e2e, vitest project
 * e2e: helm install, the fleet, the lifecycle and the faults), then deletes the cluster and stops the
 * dockerd it started, unless --keep.
 *
 * With --json the last line is one JSON object: the suite's figures, passed/failed/skipped and the
 * step timings. With --if-docker, a machine where Docker cannot run gets the suite skipped (counted as
 * skipped, with one line saying why) instead of a failure. A failed step prints one line naming it and
 * its log. `--report FILE` keeps vitest's JSON report there (hack/test.sh sums it with the others).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  appImages,
  createKindCluster,
  type DockerState,
  deleteKindCluster,
  ensureDocker,
  type KindCluster,
  KindStepError,
  kindClusterExists,
  loadImages,
  nodeImage,
  stopDocker,
} from "./cluster.js";

const { values: flags } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    cluster: { type: "string" },
    workers: { type: "string", default: "3" },
    tag: { type: "string", default: "e2e" },
    "if-docker": { type: "boolean", default: false },
    report: { type: "string" },
  },
});
const clusterName = flags.cluster ?? "edgefleet-e2e";
const workers = Number(flags.workers);
if (!Number.isInteger(workers) || workers < 3 || workers > 8) {
  console.error(
    `--workers: must be an integer from 3 to 8 (a DaemonSet, a node failure and peers need two in the ISP site, a client's failover the IX site's one more), got ${flags.workers}`,
  );
  process.exit(2);
}

const timings: Record<string, number> = {};
async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round((performance.now() - t0) / 100) / 10;
    console.error(`e2e:kind: ${name} ${timings[name]}s`);
  }
}

type VitestReport = { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };

/** What this run started and must stop: the cluster it created, the dockerd it started. */
const started: { cluster?: string; docker?: DockerState; suite?: number | undefined } = {};

function vitest(env: NodeJS.ProcessEnv, report: string): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group, so a signal to this runner can stop vitest and its workers too.
    const p = spawn(
      "npx",
      ["vitest", "run", "--project", "e2e", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
      {
        stdio: ["ignore", flags.json ? process.stderr : "inherit", "inherit"],
        env: { ...process.env, ...env },
        detached: true,
      },
    );
    started.suite = p.pid;
    p.on("close", (code) => {
      started.suite = undefined;
      resolve(code ?? 1);
    });
  });
}

/** Deletes what this run started unless --keep (idempotent: a signal and the normal end may both call it). */
async function cleanup(): Promise<void> {
  const { cluster, docker } = started;
  started.cluster = undefined;
  started.docker = undefined;
  if (flags.keep) {
    if (cluster) console.error(`e2e:kind: kept cluster ${cluster}`);
    return;
  }
  const warn = (e: unknown) => console.error(e instanceof Error ? e.message : String(e));
  if (cluster) await timed("deleteCluster", () => deleteKindCluster(cluster)).catch(warn);
  if (docker?.startedByUs) await timed("stopDocker", stopDocker).catch(warn);
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.error(`e2e:kind: ${sig}: removing what this run started`);
    if (started.suite) process.kill(-started.suite, "SIGTERM");
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), "edgefleet-e2e-"));
  const report = flags.report ?? join(work, "report.json");
  const figures = join(work, "figures.json");
  let cluster: KindCluster | undefined;
  let skip = "";
  let error = "";
  let code = 1;
  try {
    started.docker = await timed("docker", ensureDocker).catch((err: unknown) => {
      if (!flags["if-docker"]) throw err;
      skip = `Docker Engine cannot run on this machine (${err instanceof Error ? err.message : String(err)})`;
      return undefined;
    });
    if (!skip) {
      const image = await timed("nodeImage", nodeImage);
      const app = await timed("appImages", () => appImages(flags.tag));
      // A named cluster is used as it is; the default one is always fresh (one kept by --keep is replaced).
      if (!flags.cluster && (await kindClusterExists(clusterName)))
        await timed("deleteStale", () => deleteKindCluster(clusterName));
      if (!(await kindClusterExists(clusterName))) started.cluster = clusterName;
      cluster = await timed("cluster", () => createKindCluster({ name: clusterName, image, workers }));
      await timed("loadImages", () => loadImages(clusterName, [app.operator, app.edge]));
    }
    const env = cluster
      ? {
          EDGEFLEET_E2E_CLUSTER: cluster.name,
          EDGEFLEET_E2E_KUBECONFIG: cluster.kubeconfig,
          EDGEFLEET_E2E_TAG: flags.tag,
          EDGEFLEET_E2E_FIGURES: figures,
        }
      : { EDGEFLEET_E2E_SKIP: skip };
    code = await timed("suite", () => vitest(env, report));
  } catch (err) {
    error =
      err instanceof KindStepError
        ? err.message
        : `edgefleet kind: ${err instanceof Error ? err.message : String(err)}`;
    console.error(error);
  } finally {
    await cleanup();
  }
  const r = JSON.parse(await readFile(report, "utf8").catch(() => "null")) as VitestReport | null;
  const found = JSON.parse(await readFile(figures, "utf8").catch(() => "{}")) as Record<string, unknown>;
  const summary = {
    nodes: cluster?.nodes.length ?? 0,
    edgeServers: cluster?.nodes.filter((n) => n.role === "worker").length ?? 0,
    edgePodsReady: 0,
    filledFiles: 0,
    filledBytes: 0,
    sha256Mismatches: null,
    steeringFirstCluster: null,
    playbackBytesFromEdge: 0,
    heartbeatDropSeconds: null,
    operatorFailoverSeconds: null,
    apiserverRestartRecoveredSeconds: null,
    ...found,
    passed: r?.numPassedTests ?? 0,
    failed: (r?.numFailedTests ?? 0) + (error || (code !== 0 && !r?.numFailedTests) ? 1 : 0),
    skipped: (r?.numPendingTests ?? 0) + (r?.numTodoTests ?? 0),
    ...(skip ? { skippedBecause: skip } : {}),
    ...(error ? { error } : {}),
    seconds: timings,
  };
  await rm(work, { recursive: true, force: true });
  if (flags.json) console.log(JSON.stringify(summary));
  else console.error(`e2e:kind: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return summary.failed === 0 && (summary.passed > 0 || skip !== "") ? 0 : 1;
}

process.exitCode = await main();
