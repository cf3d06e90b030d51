/**
 * Placement benchmark: one synthetic catalog on one cluster mix, placed by HCA and four consistent-
 * hashing baselines. Prints balance, churn under 7 days of drift, churn on adding and removing a
 * server, time and memory. Each algorithm runs in its own process so that peak RSS is its own.
 *
 * Balance is judged twice: in sample (on the popularity the placement was computed from) and on the
 * next day (the placement of day d on day d + 1's demand, from the same drift model), where a placement
 * actually serves.
 *
 *   npm run bench:placement -- [--files N] [--servers M] [--alpha A] [--days D] [--seed S]
 *                              [--mix name:TB:Gbps:share,...] [--storage-scale X|auto]
 *                              [--forecast trend|none] [--releases fraction] [--announce σ] [--mixes random:N]
 *
 * `--cold-only` builds the catalog and runs one HCA placement (planHca + assign) in a fresh process, and
 * prints its wall and CPU time and the process's peak RSS before and after it: the placement's own
 * footprint, without the forecast's warm-up days.
 *
 * `--mixes random:N` runs HCA alone on N seeded random fleets (2–4 server classes of 4–400 TB and
 * 10–400 Gbps, 10–200 servers, α 0.6–1.2) instead of `--mix`, and prints the distribution.
 *                              [--fill-gbps G] [--window-h H] [--json]
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { maxForecastTitles } from "../operator/src/api/popularity.js";
import { forecastDemand } from "../operator/src/catalog/forecast.js";
import { balance, canonicalServers, churn, type Server, served } from "../operator/src/placement/index.js";
import { Rng } from "../operator/src/placement/rng.js";
import {
  DEFAULT_DRIFT,
  driftCatalog,
  forecastFiles,
  generateCatalog,
  type SyntheticCatalog,
  titlePlays,
} from "../operator/src/placement/testing/synthetic-catalog.js";
import { algorithms, RING_TOKENS } from "./placement/algorithms.js";

/** The default catalog; `--storage-scale auto` keeps its catalog-to-storage ratio. */
const DEFAULT_FILES = 1_000_000;

const { values: opts } = parseArgs({
  options: {
    files: { type: "string", default: String(DEFAULT_FILES) },
    servers: { type: "string", default: "100" },
    alpha: { type: "string", default: "0.9" },
    days: { type: "string", default: "7" },
    seed: { type: "string", default: "1" },
    mix: { type: "string", default: "storage:200:40:0.2,flash:18:100:0.8" },
    // Multiplies every class's storage; "auto" = files ÷ 1M, the default catalog-to-storage ratio.
    "storage-scale": { type: "string", default: "1" },
    // "trend": place each night by the forecast a Popularity producer would write (catalog/forecast.ts);
    // "none": by the day's plays.
    forecast: { type: "string", default: "trend" },
    // New titles a day as a fraction of the catalog's (the drift model's releases; 0 isolates the rest).
    releases: { type: "string", default: String(DEFAULT_DRIFT.releases) },
    "fill-gbps": { type: "string", default: "1.2" },
    "window-h": { type: "string", default: "12" },
    only: { type: "string" },
    mixes: { type: "string" },
    // σ of the log-normal error of the forecast of announced releases; absent: releases are unannounced.
    announce: { type: "string" },
    worker: { type: "string" },
    // Time and memory of one cold placement only: the catalog, then planHca + assign, no forecast or drift.
    "cold-only": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

function num(name: keyof typeof opts, min: number): number {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name}: must be a number ≥ ${min}, got ${String(opts[name])}`);
    process.exit(2);
  }
  return v;
}

type ServerClass = { name: string; storageBytes: number; throughputBitsPerSec: number; share: number };

function parseMix(spec: string): ServerClass[] {
  return spec.split(",").map((part) => {
    const [name, tb, gbps, share] = part.split(":");
    const c = {
      name: name ?? "",
      storageBytes: Number(tb) * 1e12,
      throughputBitsPerSec: Number(gbps) * 1e9,
      share: Number(share),
    };
    if (!c.name || !(c.storageBytes > 0 && c.throughputBitsPerSec > 0 && c.share > 0)) {
      console.error(`--mix: each class is name:TB:Gbps:share with positive numbers, got "${part}"`);
      process.exit(2);
    }
    return c;
  });
}

/** m servers split between the classes by share (largest remainder), named <class>-NNN. */
function cluster(classes: readonly ServerClass[], m: number): Server[] {
  const total = classes.reduce((x, c) => x + c.share, 0);
  const counts = classes.map((c) => Math.floor((m * c.share) / total));
  let left = m - counts.reduce((x, y) => x + y, 0);
  for (let k = 0; left > 0; k = (k + 1) % classes.length, left--) counts[k] = (counts[k] ?? 0) + 1;
  return classes.flatMap((c, k) =>
    Array.from({ length: counts[k] ?? 0 }, (_, i) => ({
      name: `${c.name}-${String(i).padStart(3, "0")}`,
      storageBytes: c.storageBytes,
      throughputBitsPerSec: c.throughputBitsPerSec,
    })),
  );
}

const files = num("files", 1);
const m = num("servers", 2);
const alpha = num("alpha", 0);
const days = num("days", 1);
const seed = num("seed", 0);
const storageScale = opts["storage-scale"] === "auto" ? files / DEFAULT_FILES : num("storage-scale", Number.MIN_VALUE);
const classes = parseMix(opts.mix ?? "").map((c) => ({ ...c, storageBytes: c.storageBytes * storageScale }));
const servers = cluster(classes, m);
const nightlyBudget = ((num("fill-gbps", 0) * 1e9) / 8) * num("window-h", 0) * 3600;
const ALGORITHMS = algorithms(nightlyBudget);
if (opts.forecast !== "trend" && opts.forecast !== "none") {
  console.error(`--forecast: must be "trend" or "none", got ${String(opts.forecast)}`);
  process.exit(2);
}
/** Days of plays the forecast looks back over. */
const FORECAST_DAYS = 4;

/** What the operator places tonight: the catalog ranked by the forecast of tomorrow's plays, or by today's. */
function planned(
  history: Record<string, number>[],
  catalog: SyntheticCatalog,
  tomorrow: SyntheticCatalog,
  day: number,
) {
  history.push(titlePlays(catalog));
  if (history.length > FORECAST_DAYS) history.shift();
  if (opts.forecast === "none") return catalog.files;
  const releases = announced(catalog, tomorrow, day);
  const forecast = forecastDemand(history, { limit: maxForecastTitles - releases.length });
  for (const t of releases) forecast[t.id] = t.popularity;
  return forecastFiles(catalog, forecast, releases);
}

/**
 * With `--announce σ`, tomorrow's releases as the producer knows them tonight (their Titles are ingested
 * before they go live): each with its first day's plays times a log-normal forecast error exp(σ·N(0,1)).
 * Without it, none: a release misses the cluster on its first day.
 */
function announced(today: SyntheticCatalog, tomorrow: SyntheticCatalog, day: number) {
  if (opts.announce === undefined) return [];
  const sigma = num("announce", 0);
  const rng = new Rng(seed * 1_000_003 + day + 7);
  const known = new Set(today.titles.map((t) => t.id));
  return tomorrow.titles
    .filter((t) => !known.has(t.id))
    .map((t) => ({ ...t, popularity: t.popularity * Math.exp(sigma * rng.normal()) }));
}

export type Row = {
  name: string;
  peakToMean: number;
  /** HCA only: λ, the least peak/mean a two-ring placement can reach here (1 when a cutoff balances traffic). */
  trafficBound?: number;
  /** In sample: share of the day's traffic on files the cluster does not hold. */
  missShare: number;
  /** Placement of day d judged on day d + 1's demand, over the drift days: mean and worst. */
  nextDay: {
    peakToMeanMean: number;
    peakToMeanWorst: number;
    peakToMeanByDay: number[];
    missShareMean: number;
    missShareWorst: number;
    /** The miss had the cluster stored day d + 1's own stored set (mean over the days). */
    impliedMissShareMean: number;
  };
  maxStorageUse: number;
  overflowBytes: number;
  holeBytes: number;
  churnDailyBytes: number;
  churnDailyByCause: { drift: number; cutoff: number; servers: number };
  nightlyFillMaxBytes: number;
  nightlyFillBudgetBytes: number;
  churnAddRatio: number;
  churnRemoveRatio: number;
  ms: number;
  cpuMs: number;
  peakRssMB: number;
};

function runWorker(name: string): Row {
  const alg = ALGORITHMS.find((a) => a.name === name);
  if (!alg) throw new Error(`unknown algorithm ${name}`);
  // Warm-up: FORECAST_DAYS − 1 days of drift before day 0, so that every night's forecast, the first
  // one included, has the history it has in steady operation.
  const drift = { ...DEFAULT_DRIFT, releases: num("releases", 0), seed: seed + 1 };
  const history: Record<string, number>[] = [];
  let day0 = generateCatalog({ files, alpha, seed });
  for (let w = 1; w < FORECAST_DAYS; w++) {
    history.push(titlePlays(day0));
    day0 = driftCatalog(day0, w, drift);
  }
  // Day d's catalog is drift day FORECAST_DAYS − 1 + d; tomorrow's is drawn a night ahead for --announce.
  const dayCatalog = (prev: SyntheticCatalog, d: number) => driftCatalog(prev, FORECAST_DAYS - 1 + d, drift);
  let tomorrow = dayCatalog(day0, 1);
  const files0 = planned(history, day0, tomorrow, 0);
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const placed = alg.place(files0, servers, undefined);
  const ms = performance.now() - wall;
  const used = process.cpuUsage(cpu);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const list = canonicalServers(servers);
  const b = balance(placed.assignment, list);
  const inSample = served(placed.assignment, list, day0.files);
  const nextDay = {
    peakToMeanMean: 0,
    peakToMeanWorst: 0,
    peakToMeanByDay: [] as number[],
    missShareMean: 0,
    missShareWorst: 0,
    impliedMissShareMean: 0,
  };

  let prev = placed;
  let catalog = day0;
  let total = 0;
  let maxFill = 0;
  const byCause = { drift: 0, cutoff: 0, servers: 0 };
  for (let d = 1; d <= days; d++) {
    catalog = tomorrow;
    tomorrow = dayCatalog(catalog, d + 1);
    const judged = served(prev.assignment, list, catalog.files);
    nextDay.peakToMeanMean += judged.peakToMean / days;
    nextDay.peakToMeanWorst = Math.max(nextDay.peakToMeanWorst, judged.peakToMean);
    nextDay.peakToMeanByDay.push(judged.peakToMean);
    nextDay.missShareMean += judged.missShare / days;
    nextDay.missShareWorst = Math.max(nextDay.missShareWorst, judged.missShare);
    nextDay.impliedMissShareMean += judged.impliedMissShare / days;
    const next = alg.place(planned(history, catalog, tomorrow, d), servers, prev.state);
    const c = churn(prev.assignment, next.assignment);
    total += c.totalBytes;
    byCause.drift += c.byCause.drift / days;
    byCause.cutoff += c.byCause.cutoff / days;
    byCause.servers += c.byCause.servers / days;
    for (const x of c.perServer) maxFill = Math.max(maxFill, x);
    prev = next;
  }

  // One more server of the last class, then one fewer: bytes fetched ÷ the bytes that must move.
  const last = classes[classes.length - 1] as ServerClass;
  const added: Server = {
    name: `${last.name}-new`,
    storageBytes: last.storageBytes,
    throughputBitsPerSec: last.throughputBitsPerSec,
  };
  const grown = alg.place(files0, [...servers, added], placed.state);
  const addIdeal = grown.assignment.bytes[grown.assignment.servers.indexOf(added.name)] ?? 0;
  const victim = servers.find((s) => s.name.startsWith(`${last.name}-`)) as Server;
  const shrunk = alg.place(
    files0,
    servers.filter((s) => s !== victim),
    placed.state,
  );
  const removeIdeal = placed.assignment.bytes[placed.assignment.servers.indexOf(victim.name)] ?? 0;

  return {
    name,
    ...b,
    ...(placed.trafficBound === undefined ? {} : { trafficBound: placed.trafficBound }),
    missShare: inSample.missShare,
    nextDay,
    churnDailyBytes: total / days,
    churnDailyByCause: byCause,
    nightlyFillMaxBytes: maxFill,
    nightlyFillBudgetBytes: nightlyBudget,
    churnAddRatio: churn(placed.assignment, grown.assignment).totalBytes / addIdeal,
    churnRemoveRatio: churn(placed.assignment, shrunk.assignment).totalBytes / removeIdeal,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMB,
  };
}

const TB = 1e12;
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => (100 * x).toFixed(1);

function table(rows: readonly Row[]): string {
  const head = [
    "algorithm",
    "peak/mean",
    "next-day peak/mean mean/worst",
    "miss % (next-day mean/worst; implied)",
    "max use",
    "overflow TB",
    "holes TB",
    "churn/day TB",
    "(drift/cutoff/servers)",
    "max night fill ÷ budget",
    "add ×ideal",
    "remove ×ideal",
    "ms",
    "cpu ms",
    "peak RSS MB",
  ];
  const lines = rows.map((r) => [
    r.name,
    f3(r.peakToMean),
    `${f3(r.nextDay.peakToMeanMean)}/${f3(r.nextDay.peakToMeanWorst)}`,
    `${pct(r.missShare)} (${pct(r.nextDay.missShareMean)}/${pct(r.nextDay.missShareWorst)}; ${pct(r.nextDay.impliedMissShareMean)})`,
    f3(r.maxStorageUse),
    f2(r.overflowBytes / TB),
    f2(r.holeBytes / TB),
    f2(r.churnDailyBytes / TB),
    `${f2(r.churnDailyByCause.drift / TB)}/${f2(r.churnDailyByCause.cutoff / TB)}/${f2(r.churnDailyByCause.servers / TB)}`,
    f2(r.nightlyFillMaxBytes / r.nightlyFillBudgetBytes),
    f2(r.churnAddRatio),
    f2(r.churnRemoveRatio),
    r.ms.toFixed(0),
    r.cpuMs.toFixed(0),
    r.peakRssMB.toFixed(0),
  ]);
  return [head, head.map(() => "---"), ...lines].map((l) => `| ${l.join(" | ")} |`).join("\n");
}

/** Runs one algorithm in a fresh process (its own peak RSS) with these arguments. */
function spawnWorker(args: readonly string[], name: string): Row {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1] ?? "", ...args, "--worker", name], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    console.error(`${name} failed (${args.join(" ")}):\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Row;
}

type RandomMix = { mix: string; servers: number; alpha: number };

/** Issue 15's random fleets: 2–4 classes, 4–400 TB and 10–400 Gbps (log-uniform), 10–200 servers, α 0.6–1.2. */
function randomMixes(n: number): RandomMix[] {
  const rng = new Rng(seed * 7919 + 17);
  const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** rng.next();
  return Array.from({ length: n }, () => {
    const k = 2 + Math.floor(rng.next() * 3);
    const classes = Array.from({ length: k }, (_, c) => {
      const tb = logUniform(4, 400).toFixed(1);
      const gbps = logUniform(10, 400).toFixed(0);
      return `c${c}:${tb}:${gbps}:${(0.1 + rng.next()).toFixed(2)}`;
    });
    return {
      mix: classes.join(","),
      servers: Math.round(logUniform(10, 200)),
      alpha: Number((0.6 + 0.6 * rng.next()).toFixed(2)),
    };
  });
}

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

function runMixes(n: number, command: string): void {
  const keep = ["--files", String(files), "--days", String(days), "--seed", String(seed)];
  keep.push("--forecast", String(opts.forecast), "--releases", String(num("releases", 0)));
  if (opts.announce !== undefined) keep.push("--announce", opts.announce);
  const runs = randomMixes(n).map((x) => ({
    ...x,
    row: spawnWorker([...keep, "--mix", x.mix, "--servers", String(x.servers), "--alpha", String(x.alpha)], "hca"),
  }));
  // Goal (issue 15): peak/mean ≤ 1.05 where a cutoff balances traffic, else within 2 % of λ.
  const met = (r: Row) => r.peakToMean <= Math.max(1.05, 1.02 * (r.trafficBound ?? 1));
  const metrics: [string, (r: Row) => number][] = [
    ["peak/mean", (r) => r.peakToMean],
    ["peak/mean ÷ max(1.05, 1.02 λ)", (r) => r.peakToMean / Math.max(1.05, 1.02 * (r.trafficBound ?? 1))],
    ["next-day peak/mean (mean of days)", (r) => r.nextDay.peakToMeanMean],
    ["next-day peak/mean (worst day)", (r) => r.nextDay.peakToMeanWorst],
    ["add churn ÷ ideal", (r) => r.churnAddRatio],
    ["remove churn ÷ ideal", (r) => r.churnRemoveRatio],
    ["max night fill ÷ budget", (r) => r.nightlyFillMaxBytes / r.nightlyFillBudgetBytes],
  ];
  const summary = Object.fromEntries(
    metrics.map(([name, f]) => {
      const xs = runs.map((x) => f(x.row));
      return [name, { p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: Math.max(...xs) }];
    }),
  );
  const feasible = runs.filter((x) => (x.row.trafficBound ?? 1) === 1).length;
  const goal = runs.filter((x) => met(x.row)).length;
  if (opts.json) {
    console.log(JSON.stringify({ command, files, days, feasible, balanceGoalMet: goal, summary, runs }));
    return;
  }
  console.log(`# ${command}`);
  console.log(
    `${n} random fleets, ${files} files, ${days} days of drift; ${feasible} with a balancing cutoff (λ = 1); balance goal met on ${goal}`,
  );
  console.log("| metric | p50 | p90 | max |\n| --- | --- | --- | --- |");
  for (const [name, q] of Object.entries(summary))
    console.log(`| ${name} | ${f3(q.p50)} | ${f3(q.p90)} | ${f3(q.max)} |`);
}

/** One cold HCA placement of the day-0 catalog; RSS is the process's peak (the catalog included). */
function coldPlacement() {
  const catalog = generateCatalog({ files, alpha, seed }).files;
  const catalogRssMB = process.resourceUsage().maxRSS / 1024;
  const hca = ALGORITHMS.find((a) => a.name === "hca") as (typeof ALGORITHMS)[number];
  const wall = performance.now();
  const cpu = process.cpuUsage();
  hca.place(catalog, servers, undefined);
  const used = process.cpuUsage(cpu);
  return {
    files: catalog.length,
    servers: servers.length,
    ms: performance.now() - wall,
    cpuMs: (used.user + used.system) / 1000,
    catalogRssMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

function main(): void {
  if (opts["cold-only"]) {
    const command = `npm run bench:placement -- ${process.argv.slice(2).join(" ")}`.trim();
    console.log(JSON.stringify({ command, ...coldPlacement() }));
    return;
  }
  if (opts.worker) {
    process.stdout.write(`${JSON.stringify(runWorker(opts.worker))}\n`);
    return;
  }
  const command = `npm run bench:placement -- ${process.argv.slice(2).join(" ")}`.trim();
  if (opts.mixes !== undefined) {
    const n = /^random:(\d+)$/.exec(opts.mixes)?.[1];
    if (n === undefined || Number(n) < 1) {
      console.error(`--mixes: must be random:N with N ≥ 1, got ${opts.mixes}`);
      process.exit(2);
    }
    runMixes(Number(n), command);
    return;
  }
  const passthrough = process.argv.slice(2).filter((a) => a !== "--json");
  const rows: Row[] = [];
  for (const alg of ALGORITHMS) {
    if (opts.only && !opts.only.split(",").includes(alg.name)) continue;
    rows.push(spawnWorker(passthrough, alg.name));
  }
  if (opts.json) {
    console.log(
      JSON.stringify({
        command,
        files,
        servers: m,
        alpha,
        days,
        mix: opts.mix,
        storageScale,
        forecast: opts.forecast,
        releases: num("releases", 0),
        announce: opts.announce === undefined ? null : num("announce", 0),
        algorithms: rows,
      }),
    );
    return;
  }
  const stored = rows[0];
  console.log(`# ${command}`);
  console.log(
    `${files} files, α = ${alpha}, ${m} servers (${opts.mix}, storage × ${storageScale}), ${days} days of drift (releases ${num("releases", 0)}/day; placed by forecast "${opts.forecast}"), nightly budget ${f2(nightlyBudget / TB)} TB/server; rings: ${RING_TOKENS.baseline} tokens/server (baselines), ${RING_TOKENS.hca} (HCA)`,
  );
  console.log(table(rows));
  if (stored === undefined) console.log("(no algorithm matched --only)");
}

main();
