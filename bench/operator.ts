/**
 * Operator scale: on a fresh local control plane (kwok nodes complete the fill Jobs), create a fleet of
 * N OCAClusters × M servers, T Titles and one Popularity per region, then run the operator in-process
 * and measure the time, API requests and peak RSS until every cluster has an Active placement, and
 * again after one region's Popularity changes. Prints figures; never passes or fails on time.
 *
 *   npm run bench:operator -- [--clusters N] [--servers-per-cluster M] [--titles T] [--json] [--keep]
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { clusterDown, clusterUp, ensureBinaries } from "../hack/local-cluster.js";
import { type Kind, Kinds } from "../operator/src/api/index.js";
import { repoRoot } from "../operator/src/api/testdata/samples.js";
import { startOperator } from "../operator/src/operator.js";
import { Kube, type KubeObject } from "../operator/src/runtime/kube.js";
import { fixedLinkKeys } from "../operator/src/steering/link-keys.js";
import { benchClusters, benchNodes, benchPopularity, benchTitles, regions } from "./operator/fleet.js";
import { type Counts, RequestCounter, since } from "./operator/requests.js";

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

/** Polls `check` (every 500 ms) until it returns true; false when `timeoutMs` passes first. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

type Status = { activePlacement?: string; phase?: string };
type Observed = { active: Map<string, string>; phases: Map<string, number>; generations: Map<string, string> };

/** Every cluster's active placement and the Placements by phase, read with the bench's own (uncounted) client. */
async function observe(kube: Kube): Promise<Observed> {
  const clusters = await kube.list(Kinds.OCACluster, { namespace: ns });
  const placements = await kube.list(Kinds.Placement, { namespace: ns });
  const active = new Map<string, string>();
  for (const c of clusters.items) {
    const a = (c.status as Status | undefined)?.activePlacement;
    if (a) active.set(c.metadata.name, a);
  }
  const phases = new Map<string, number>();
  const generations = new Map<string, string>();
  for (const p of placements.items) {
    const phase = (p.status as Status | undefined)?.phase ?? "(none)";
    phases.set(phase, (phases.get(phase) ?? 0) + 1);
    generations.set(p.metadata.name, (p.spec as { catalogGeneration: string }).catalogGeneration);
  }
  return { active, phases, generations };
}
const settled = (o: Observed) => !o.phases.get("Pending") && !o.phases.get("Filling") && !o.phases.get("(none)");

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

say(`load average at start: ${loadavg()[0]?.toFixed(1)} (2 cores shared with other work)`);
say(`fleet: ${nClusters} OCAClusters × ${perCluster} servers, ${nTitles} Titles, ${regions.length} regions`);
const tUp = performance.now();
await clusterDown(clusterName);
const cluster = await clusterUp(clusterName);
say(`fresh control plane ${clusterName} up in ${sec(performance.now() - tUp)}`);

const stop = new AbortController();
let operatorDone: Promise<void> | undefined;
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
  titles = []; // the operator's caches are what we measure, not the generator's copy
  await timed("Popularity", Kinds.Popularity, pops, 1);
  const createMs = performance.now() - tCreate;
  say(`\ncreated in ${sec(createMs)} (server-side apply, 32 in flight):`);
  for (const c of created) say(`  ${c.what.padEnd(16)}${String(c.n).padStart(7)}  ${sec(c.ms).padStart(8)}`);
  say(`  (a Title is ${titleKB.toFixed(1)} KB of JSON; ${setupCounter.snapshot().total} requests)`);

  // ---- converge ----
  const counter = new RequestCounter();
  const kube = await Kube.connect(cluster.kubeconfig, { onRequest: counter.observe });
  let peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const log = pino({ level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
  const t0 = performance.now();
  const op = await startOperator(
    {
      kube,
      log,
      namespace: ns,
      identity: "bench",
      leaseNamespace: ns,
      healthPort: 0,
      healthHost: "127.0.0.1",
      linkKeys: fixedLinkKeys({
        keys: new Map([["k1", Buffer.from("bench-master-k1-0123456789abcdefghij")]]),
        primary: "k1",
      }),
    },
    stop.signal,
  );
  operatorDone = op.done;
  const port = (op.health.address() as AddressInfo).port;
  let last: Observed | undefined;
  const converged = await until(async () => {
    last = await observe(setup);
    return last.active.size === nClusters && settled(last);
  }, timeoutMs);
  const convergeMs = performance.now() - t0;
  const first = counter.snapshot();
  const firstRss = peakRss;
  const firstReconciles = await reconciles(port);
  if (!converged) say(`\nNOT converged after ${sec(convergeMs)}: ${last?.active.size ?? 0}/${nClusters} active`);

  // ---- one Popularity update: new demand in one region ----
  const region = regions[0];
  const inRegion = clusters.filter((c) => (c.spec as { region: string }).region === region).map((c) => c.metadata.name);
  const before = (await observe(setup)).active;
  const t1 = performance.now();
  await setup.apply(Kinds.Popularity, changed, benchManager);
  const reconverged = await until(async () => {
    last = await observe(setup);
    const o = last;
    return (
      settled(o) &&
      inRegion.every((c) => {
        const a = o.active.get(c);
        return a !== undefined && a !== before.get(c) && (o.generations.get(a) ?? "").startsWith("bench-day-2.");
      })
    );
  }, timeoutMs);
  const reconvergeMs = performance.now() - t1;
  const second = since(first, counter.snapshot());
  const secondReconciles = minus(firstReconciles, await reconciles(port));
  if (!reconverged) say(`\nNOT reconverged after ${sec(reconvergeMs)}`);

  // ---- steady state: what the operator does when nothing changes ----
  const settleMs = 10_000;
  const s0 = counter.snapshot();
  await new Promise((r) => setTimeout(r, settleMs));
  const idle = since(s0, counter.snapshot());
  clearInterval(sampler);

  const mb = (b: number) => Math.round(b / 2 ** 20);
  const verbs = (c: Counts) =>
    Object.entries(c.byVerb)
      .sort((a, b) => b[1] - a[1])
      .map(([v, n]) => `${v} ${n}`)
      .join(", ");
  const top = (c: Counts) =>
    Object.entries(c.byResource)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([v, n]) => `${v} ${n}`)
      .join(", ");
  say(`\noperator (in-process, namespace-scoped, 2 workers per controller):`);
  say(`phase                      time       API requests  by verb`);
  say(
    `converge (all Active)      ${sec(convergeMs).padStart(9)}  ${String(first.total).padStart(12)}  ${verbs(first)}`,
  );
  say(`  by resource: ${top(first)}`);
  say(`  reconciles: ${JSON.stringify(firstReconciles)}`);
  say(
    `reconverge (${region} pop)   ${sec(reconvergeMs).padStart(9)}  ${String(second.total).padStart(12)}  ${verbs(second)}`,
  );
  say(`  by resource: ${top(second)}`);
  say(`  reconciles: ${JSON.stringify(secondReconciles)}`);
  say(`idle ${settleMs / 1000} s after            ${String(idle.total).padStart(21)}  ${verbs(idle)}`);
  say(`  by resource: ${top(idle)}`);
  say(
    `RSS: ${mb(baseRss)} MB before the operator started, peak ${mb(firstRss)} MB during convergence, ${mb(peakRss)} MB overall`,
  );
  say(`failed requests (4xx/5xx/connection): ${first.errors} + ${second.errors}`);

  const figures = {
    clusters: nClusters,
    nodes: nodes.length,
    titles: nTitles,
    createMs: Math.round(createMs),
    convergeMs: Math.round(convergeMs),
    converged,
    apiRequests: first.total,
    requestsByVerb: first.byVerb,
    peakRssMB: mb(firstRss),
    reconvergeMs: Math.round(reconvergeMs),
    reconverged,
    reconvergeRequests: second.total,
    reconvergeRequestsByVerb: second.byVerb,
    idleRequestsPer10s: idle.total,
    setupRequests: setupCounter.snapshot().total,
  };
  if (json) console.log(JSON.stringify(figures));
  else
    say(
      `\nload average at end: ${loadavg()[0]?.toFixed(1)}\n${JSON.stringify(figures)}\n\nreproduce: npm run bench:operator -- --clusters ${nClusters} --servers-per-cluster ${perCluster} --titles ${nTitles} --json`,
    );
} finally {
  stop.abort();
  await operatorDone?.catch(() => {});
  if (!keep) await clusterDown(clusterName);
}
