/**
 * Operator scale: on a fresh local control plane (kwok nodes complete the fill Jobs), create a fleet of
 * N OCAClusters × M servers, T Titles and one Popularity per region, then run the operator in a process
 * of its own and measure, until every cluster has an Active placement, no Placement waits and every
 * Title has its status: the time, the operator's API requests (against the writes that must happen),
 * its peak RSS, and the CPU each process spent. Then again after one region's Popularity changes, after
 * one server joins one cluster, and idle. Prints figures; never passes or fails on time.
 *
 *   npm run bench:operator -- [--clusters N] [--servers-per-cluster M] [--titles T] [--json] [--keep]
 *     [--kcm-qps Q] [--idle-s S] [--cpu-prof DIR] [--timeout-s S]
 *
 * --kcm-qps raises kube-controller-manager's client rate limit (--kube-api-qps, burst 1.5×; 20/30 by
 * default), which paces the Job controller's pod creates and Job status writes.
 */
import { type ChildProcess, execFile, fork } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { clusterDown, clusterUp, ensureBinaries } from "../hack/local-cluster.js";
import { type Kind, Kinds } from "../operator/src/api/index.js";
import { repoRoot } from "../operator/src/api/testdata/samples.js";
import { Kube, type KubeObject } from "../operator/src/runtime/kube.js";
import type { ChildMessage } from "./operator/child.js";
import { benchClusters, benchNodes, benchPopularity, benchTitles, regions, withAddedServer } from "./operator/fleet.js";
import { controllerManagerClient, cpuSample, cpuSpent, memoryOf } from "./operator/procs.js";
import { summarizeProfile } from "./operator/profile.js";
import { type Counts, RequestCounter, since } from "./operator/requests.js";
import { Tracker, until } from "./operator/track.js";

const run = promisify(execFile);

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer, got ${process.argv[i + 1]}`);
  return v;
}
const nClusters = flag("--clusters", 100);
const perCluster = flag("--servers-per-cluster", 10);
const nTitles = flag("--titles", 10_000);
const timeoutMs = flag("--timeout-s", 1800) * 1000;
const kcmQps = process.argv.includes("--kcm-qps") ? flag("--kcm-qps", 20) : undefined;
const idleMs = flag("--idle-s", 30) * 1000;
const profIndex = process.argv.indexOf("--cpu-prof");
const profDir = profIndex < 0 ? undefined : resolve(process.argv[profIndex + 1] ?? "bench-operator-prof");
const json = process.argv.includes("--json");
const keep = process.argv.includes("--keep");
const say = (s: string) => {
  if (!json) console.log(s);
};
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const clusterName = "edgefleet-bench";
const ns = "edgefleet-bench";
const benchManager = "edgefleet-bench";
const core = (kind: string, plural: string, namespaced: boolean): Kind => ({
  group: "",
  version: "v1",
  kind,
  plural,
  namespaced,
});
const NamespaceKind = core("Namespace", "namespaces", false);
const ServiceAccountKind = core("ServiceAccount", "serviceaccounts", true);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** What the bench keeps of each object it watches. */
type ClusterSeen = { active?: string };
type PlacementSeen = { cluster: string; phase: string; catalog: string; servers: string[] };
const clusterSeen = (o: KubeObject): ClusterSeen => ({
  active: (o.status as { activePlacement?: string } | undefined)?.activePlacement,
});
const placementSeen = (o: KubeObject): PlacementSeen => {
  const spec = o.spec as { cluster: string; catalogGeneration: string; servers: { name: string }[] };
  return {
    cluster: spec.cluster,
    phase: (o.status as { phase?: string } | undefined)?.phase ?? "(none)",
    catalog: spec.catalogGeneration,
    servers: spec.servers.map((x) => x.name),
  };
};
/** A Title's status is in once it was written for its current spec, with its Ready condition. */
const titleDone = (o: KubeObject): boolean => {
  const st = o.status as { observedGeneration?: number; conditions?: { type: string }[] } | undefined;
  return st?.observedGeneration === o.metadata.generation && (st?.conditions ?? []).some((c) => c.type === "Ready");
};

/** Asks the operator's process for its request counts. */
function countsOf(child: ChildProcess): Promise<Counts> {
  return new Promise((resolveCounts) => {
    const on = (m: ChildMessage) => {
      if (m.type !== "counts") return;
      child.off("message", on);
      resolveCounts(m.counts as Counts);
    };
    child.on("message", on);
    child.send({ type: "counts" });
  });
}

/** controller_runtime_reconcile_total per controller, from the operator's /metrics. */
async function reconciles(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^controller_runtime_reconcile_total\{controller="([^"]+)",result="[^"]+"\} (\d+)/gm)) {
    const [, c = "?", n = "0"] = m;
    out[c] = (out[c] ?? 0) + Number(n);
  }
  return out;
}
const minus = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]));

const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;
const loadAtStart = load1();
say(`load average at start: ${loadAtStart} (2 cores shared with other work)`);
say(`fleet: ${nClusters} OCAClusters × ${perCluster} servers, ${nTitles} Titles, ${regions.length} regions`);
const tUp = performance.now();
await clusterDown(clusterName);
const kcmArgs: Record<string, string> = kcmQps
  ? { "kube-api-qps": String(kcmQps), "kube-api-burst": String(Math.ceil(kcmQps * 1.5)) }
  : {};
const cluster = await clusterUp(clusterName, undefined, { extraArgs: { "kube-controller-manager": kcmArgs } });
say(`fresh control plane ${clusterName} up in ${sec(performance.now() - tUp)}`);

const stopWatches = new AbortController();
let child: ChildProcess | undefined;
try {
  const { kubectl } = await ensureBinaries(["kubectl"]);
  const crds = readdirSync(join(repoRoot, "crds"))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => ["-f", join(repoRoot, "crds", f)]);
  const kc = ["--kubeconfig", cluster.kubeconfig];
  await run(kubectl, [...kc, "apply", "--server-side", ...crds]);
  await run(kubectl, [...kc, "wait", "--for=condition=Established", "--timeout=60s", ...crds]);

  // ---- create the fleet (the bench's own client, counted apart from the operator's) ----
  const setupCounter = new RequestCounter();
  const setup = await Kube.connect(cluster.kubeconfig, { onRequest: setupCounter.observe });
  const apply = (kind: Kind) => (o: KubeObject) => setup.apply(kind, o, benchManager);
  const now = new Date();
  const clusters = benchClusters(nClusters, perCluster, now, ns);
  const nodes = benchNodes(clusters);
  let titles: KubeObject[] = benchTitles(nTitles, ns);
  const pops = regions.map((r) => benchPopularity(r, titles, ns));
  const changed = benchPopularity(regions[0], titles, ns, { day: 2 });
  const titleKB = JSON.stringify(titles).length / titles.length / 1024;
  const created: { what: string; n: number; ms: number }[] = [];
  const timed = async (what: string, kind: Kind, objs: KubeObject[], concurrency = 32) => {
    const t = performance.now();
    await pool(objs, concurrency, apply(kind));
    created.push({ what, n: objs.length, ms: performance.now() - t });
  };
  const tCreate = performance.now();
  await timed("Namespace", NamespaceKind, [{ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }]);
  await timed("ServiceAccount", ServiceAccountKind, [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "edgefleet-agent", namespace: ns } },
  ]);
  await timed("Node (kwok)", Kinds.Node, nodes);
  await timed("OCACluster", Kinds.OCACluster, clusters);
  await timed("Title", Kinds.Title, titles);
  titles = [];
  await timed("Popularity", Kinds.Popularity, pops, 1);
  const createMs = performance.now() - tCreate;
  say(`\ncreated in ${sec(createMs)} (server-side apply, 32 in flight):`);
  for (const c of created) say(`  ${c.what.padEnd(16)}${String(c.n).padStart(7)}  ${sec(c.ms).padStart(8)}`);
  say(`  (a Title is ${titleKB.toFixed(1)} KB of JSON; ${setupCounter.snapshot().total} requests)`);

  // ---- what the bench watches (its own client) ----
  const watcher = await Kube.connect(cluster.kubeconfig);
  const seenClusters = new Tracker(watcher, Kinds.OCACluster, ns, clusterSeen);
  const seenPlacements = new Tracker(watcher, Kinds.Placement, ns, placementSeen);
  const seenTitles = new Tracker(watcher, Kinds.Title, ns, titleDone);
  await Promise.all([seenClusters, seenPlacements, seenTitles].map((t) => t.start(stopWatches.signal)));
  const settled = () =>
    [...seenPlacements.items.values()].every(
      (p) => p.phase !== "Pending" && p.phase !== "Filling" && p.phase !== "(none)",
    );
  const activeOf = (c: string) => {
    const name = seenClusters.items.get(c)?.active;
    return name === undefined ? undefined : seenPlacements.items.get(name);
  };
  const titlesDone = () => [...seenTitles.items.values()].filter(Boolean).length;

  // ---- the operator, in its own process ----
  if (profDir) mkdirSync(profDir, { recursive: true });
  const prof = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  const t0 = performance.now();
  const cpu0 = await cpuSample(clusterName, {});
  const kcm0 = await controllerManagerClient(clusterName);
  const op = fork(join(repoRoot, "bench/operator/child.ts"), [cluster.kubeconfig, ns], {
    execArgv: [...process.execArgv, ...prof],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child = op;
  const port = await new Promise<number>((ready, fail) => {
    op.once("exit", (code) => fail(new Error(`the operator's process exited (${code}) before it was ready`)));
    op.on("message", (m: ChildMessage) => {
      if (m.type === "ready") ready(m.healthPort);
    });
  });
  const procs = () => cpuSample(clusterName, { operator: op.pid ?? 0 });

  /** One phase: waits for `done`, then takes every figure of it. */
  const phase = async (
    name: string,
    start: {
      t: number;
      cpu: Awaited<ReturnType<typeof procs>>;
      counts: Counts;
      rec: Record<string, number>;
      kcm: Awaited<ReturnType<typeof controllerManagerClient>>;
    },
    done: () => boolean,
    milestones: Record<string, () => boolean> = {},
  ) => {
    const reached: Record<string, number> = {};
    const ok = await until(() => {
      for (const [k, f] of Object.entries(milestones))
        if (reached[k] === undefined && f()) reached[k] = Math.round(performance.now() - start.t);
      return done();
    }, timeoutMs);
    const ms = Math.round(performance.now() - start.t);
    const [cpu, counts, rec, kcm, mem] = await Promise.all([
      procs(),
      countsOf(op),
      reconciles(port),
      controllerManagerClient(clusterName),
      memoryOf(op.pid ?? 0),
    ]);
    const requests = since(start.counts, counts);
    if (!ok) say(`\n${name}: NOT done after ${sec(ms)}`);
    return {
      figures: {
        ms,
        done: ok,
        milestonesMs: reached,
        requests: requests.total,
        requestsByVerb: requests.byVerb,
        requestsByResource: requests.byResource,
        failedRequests: requests.errors,
        reconciles: minus(start.rec, rec),
        cpuSeconds: cpuSpent(start.cpu, cpu),
        controllerManager: {
          requests: kcm.requests - start.kcm.requests,
          rateLimitedS: Math.round((kcm.rateLimitedS - start.kcm.rateLimitedS) * 10) / 10,
        },
        operatorPeakRssMB: mem.peakRssMB,
        operatorRssMB: mem.rssMB,
        loadAverage: load1(),
      },
      end: { t: performance.now(), cpu, counts, rec, kcm },
    };
  };
  const zero: Counts = { total: 0, errors: 0, byVerb: {}, byResource: {} };

  // ---- converge ----
  const converge = await phase(
    "converge",
    { t: t0, cpu: cpu0, counts: zero, rec: {}, kcm: kcm0 },
    () => clusters.every((c) => activeOf(c.metadata.name)?.phase === "Active") && settled() && titlesDone() === nTitles,
    {
      allTitleStatuses: () => titlesDone() === nTitles,
      allPlacementsCreated: () =>
        clusters.every((c) => [...seenPlacements.items.values()].some((p) => p.cluster === c.metadata.name)),
      allClustersActive: () => clusters.every((c) => activeOf(c.metadata.name)?.phase === "Active"),
    },
  );

  // ---- one Popularity update: new demand in one region ----
  const region = regions[0];
  const inRegion = clusters.filter((c) => (c.spec as { region: string }).region === region).map((c) => c.metadata.name);
  const popStart = { ...converge.end, t: performance.now() };
  await setup.apply(Kinds.Popularity, changed, benchManager);
  const popularity = await phase(
    "popularity",
    popStart,
    () => settled() && inRegion.every((c) => activeOf(c)?.catalog.startsWith("bench-day-2.") === true),
  );

  // ---- one server joins one cluster ----
  const target = clusters[0] as KubeObject;
  const grown = withAddedServer(target, 0);
  const addedName = (grown.cluster.spec as { servers: { name: string }[] }).servers.at(-1)?.name ?? "";
  const addStart = { ...popularity.end, t: performance.now() };
  await setup.apply(Kinds.Node, grown.node, benchManager);
  await setup.apply(Kinds.OCACluster, grown.cluster, benchManager);
  const serverAdd = await phase(
    "server add",
    addStart,
    () => settled() && activeOf(target.metadata.name)?.servers.includes(addedName) === true,
  );

  // ---- steady state: what the operator does when nothing changes ----
  const idleStart = { ...serverAdd.end, t: performance.now() };
  const idle = await phase("idle", idleStart, () => performance.now() - idleStart.t >= idleMs);

  // The writes that must happen to converge: one status per object, the Placements, the fill Jobs, and
  // each cluster's edge objects (link-key Secret, ConfigMap, DaemonSet).
  const required = {
    titleStatuses: nTitles,
    popularityStatuses: regions.length,
    clusterStatuses: nClusters,
    placements: nClusters,
    placementStatuses: nClusters,
    fillJobs: nodes.length,
    edgeObjects: 3 * nClusters,
  };
  const requiredWrites = Object.values(required).reduce((a, b) => a + b, 0);
  const figures = {
    clusters: nClusters,
    nodes: nodes.length,
    titles: nTitles,
    kcmQps: kcmQps ?? 20,
    createMs: Math.round(createMs),
    convergeMs: converge.figures.ms,
    converged: converge.figures.done,
    apiRequests: converge.figures.requests,
    requiredWrites,
    requestsPerRequiredWrite: Math.round((100 * converge.figures.requests) / requiredWrites) / 100,
    peakRssMB: converge.figures.operatorPeakRssMB,
    reconvergeMs: popularity.figures.ms,
    reconverged: popularity.figures.done,
    serverAddMs: serverAdd.figures.ms,
    serverAdded: serverAdd.figures.done,
    idleRequestsPerSecond: Math.round((100 * idle.figures.requests * 1000) / idle.figures.ms) / 100,
    overallPeakRssMB: idle.figures.operatorPeakRssMB,
    loadAverageAtStart: loadAtStart,
    phases: {
      converge: converge.figures,
      popularity: popularity.figures,
      serverAdd: serverAdd.figures,
      idle: idle.figures,
    },
    required,
    setupRequests: setupCounter.snapshot().total,
    profile: undefined as ReturnType<typeof summarizeProfile> | undefined,
  };
  op.send({ type: "stop" });
  await new Promise((r) => op.once("exit", r));
  child = undefined;
  if (profDir) {
    const files = readdirSync(profDir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .sort();
    const newest = files.at(-1);
    if (newest) figures.profile = summarizeProfile(join(profDir, newest), repoRoot);
  }

  const verbs = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([v, n]) => `${v} ${n}`)
      .join(", ");
  const top = (c: Record<string, number>) => verbs(Object.fromEntries(Object.entries(c).slice(0, 8)));
  say(`\noperator (own process, namespace-scoped):`);
  for (const [name, f] of Object.entries(figures.phases)) {
    say(
      `${name.padEnd(12)} ${sec(f.ms).padStart(9)}${f.done ? "" : " (NOT done)"}  ${String(f.requests).padStart(6)} requests: ${verbs(f.requestsByVerb)}`,
    );
    say(`  by resource: ${top(f.requestsByResource)}`);
    say(`  milestones: ${JSON.stringify(f.milestonesMs)}  reconciles: ${JSON.stringify(f.reconciles)}`);
    say(`  CPU s: ${JSON.stringify(f.cpuSeconds)}; kube-controller-manager ${JSON.stringify(f.controllerManager)}`);
    say(`  operator RSS ${f.operatorRssMB} MB (peak so far ${f.operatorPeakRssMB} MB); load average ${f.loadAverage}`);
  }
  say(
    `\nrequests to converge ${figures.apiRequests} for ${requiredWrites} required writes (${figures.requestsPerRequiredWrite}×): ${JSON.stringify(required)}`,
  );
  if (figures.profile) {
    const p = figures.profile;
    say(`\nprofile: ${p.wallS} s wall, ${p.idleS} s idle, ${p.gcS} s GC`);
    for (const [k, v] of p.byFile) say(`  ${String(v).padStart(7)} s  ${k}`);
    say("  inclusive (the operator's own functions):");
    for (const [k, v] of p.inclusive) say(`  ${String(v).padStart(7)} s  ${k}`);
  }
  if (json) console.log(JSON.stringify(figures));
  else
    say(
      `\nload average at end: ${load1()}\n\nreproduce: npm run bench:operator -- --clusters ${nClusters} --servers-per-cluster ${perCluster} --titles ${nTitles}${kcmQps ? ` --kcm-qps ${kcmQps}` : ""} --json`,
    );
} finally {
  stopWatches.abort();
  child?.kill("SIGTERM");
  if (!keep) await clusterDown(clusterName);
}
