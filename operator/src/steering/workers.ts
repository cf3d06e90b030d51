/**
 * Steering on several cores. A node:cluster primary forks `workers` processes; each is a whole steering
 * process (process.ts `startSteering`: its own watches, store and index build thread) and they share the
 * service port (the primary hands each new connection to the next worker in turn). The primary serves
 * /healthz, /readyz and /metrics for all of them: /readyz is ready while every worker is running and
 * says it is ready, /metrics sums the workers' metrics (prom-client's AggregatorRegistry; the staleness
 * gauge takes the worst).
 *
 * Why each worker watches the API itself rather than the primary feeding them: every worker then sees
 * every heartbeat Lease renewal and deletion from the API server, as a single process does, so a server
 * that dies is dropped by every worker within the same moments, with nothing to relay or lose; the cost
 * is one set of watches per worker (a few per pod) and one index per worker (typed arrays: ~80 MB for
 * the full 1M-prefix table, a few MB for a real fleet). Telemetry lands on whichever worker took the
 * request; its histograms are summed on /metrics like everything else.
 */
import cluster, { type Worker } from "node:cluster";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Readiness } from "../runtime/caches.js";
import { startHealthServer } from "../runtime/health.js";

/** What a worker tells the primary about itself, every second and at once when it changes. */
type ReadyMessage = Readonly<{ type: "edgefleet:steering-ready"; ok: boolean; reason: string }>;
const isReadyMessage = (m: unknown): m is ReadyMessage =>
  typeof m === "object" && m !== null && (m as { type?: unknown }).type === "edgefleet:steering-ready";

/** The primary asks a worker to stop (drain and exit) with this message. */
const STOP = "edgefleet:steering-stop";
type StopMessage = Readonly<{ type: typeof STOP }>;
/** A worker that has not exited this long after being asked is killed (drain, informers: ~1-2 s). */
const STOP_TIMEOUT_MS = 20_000;

/** In a worker: calls `stop` when the primary asks it to stop. */
export function onStopFromPrimary(stop: () => void): void {
  process.on("message", (m: unknown) => {
    if (typeof m === "object" && m !== null && (m as { type?: unknown }).type === STOP) stop();
  });
}

/** A worker silent for this long counts as not ready (it reports every second). */
const REPORT_TIMEOUT_MS = 5000;
/** How long the primary waits before forking a replacement for a worker that died. */
const RESTART_DELAY_MS = 1000;

/**
 * The CPUs this process may use: the cgroup's CPU quota (cpu.max, rounded up) where one is set, else
 * the available parallelism. A pod limited to 2 CPUs on a 64-core node gets 2, not 64.
 */
export function defaultWorkers(cpuMax: () => string | undefined = readCpuMax): number {
  const cores = availableParallelism();
  const m = /^(\d+)\s+(\d+)/.exec(cpuMax() ?? "");
  if (m === null) return cores;
  return Math.max(1, Math.min(cores, Math.ceil(Number(m[1]) / Number(m[2]))));
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync("/sys/fs/cgroup/cpu.max", "utf8");
  } catch {
    return undefined;
  }
}

/** Sums the workers' metrics for /metrics; the health server calls `metrics()`. */
class WorkersRegistry extends AggregatorRegistry<"text/plain; version=0.0.4; charset=utf-8"> {
  override metrics(): Promise<string> {
    return this.clusterMetrics();
  }
}

export type PrimaryOptions = Readonly<{
  workers: number;
  healthPort: number;
  host: string;
  log: Logger;
}>;

export type RunningPrimary = Readonly<{ health: Server; done: Promise<void> }>;

/**
 * Forks the workers (the same program and arguments: cluster.fork), restarts any that dies, and on
 * `signal` stops them all (SIGTERM: each drains as a single process does) and then its health server.
 */
export async function startSteeringPrimary(o: PrimaryOptions, signal: AbortSignal): Promise<RunningPrimary> {
  const reports = new Map<number, ReadyMessage & { atMs: number }>();
  let stopping = false;
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on("message", (m: unknown) => {
      if (isReadyMessage(m)) reports.set(w.id, { ...m, atMs: Date.now() });
    });
    return w;
  };
  cluster.on("exit", (w, code, sig) => {
    reports.delete(w.id);
    if (stopping) return;
    o.log.error({ worker: w.id, code, signal: sig }, "steering worker died; starting another");
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS).unref();
  });
  for (let i = 0; i < o.workers; i++) fork();
  const ready = (): Readiness => {
    const now = Date.now();
    const running = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
    if (running.length < o.workers) return { ok: false, reason: `${running.length} of ${o.workers} workers running` };
    for (const w of running) {
      const r = w === undefined ? undefined : reports.get(w.id);
      if (r === undefined || now - r.atMs > REPORT_TIMEOUT_MS) return { ok: false, reason: `worker ${w?.id}: silent` };
      if (!r.ok) return { ok: false, reason: `worker ${w?.id}: ${r.reason}` };
    }
    return { ok: true, reason: "ok" };
  };
  const health = await startHealthServer(o.healthPort, o.host, { ready, registry: new WorkersRegistry() });
  o.log.info({ workers: o.workers, health: health.address() }, "steering primary started");
  const done = (async () => {
    if (!signal.aborted) await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    stopping = true;
    // A message, not a signal: a terminal's Ctrl-C (or `kill` of the group) already signalled them, and
    // a second SIGTERM would kill a worker mid-drain.
    const exits = Object.values(cluster.workers ?? {}).map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w === undefined || w.isDead()) return resolve();
          const kill = setTimeout(() => w.process.kill("SIGKILL"), STOP_TIMEOUT_MS);
          w.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          w.send({ type: STOP } satisfies StopMessage);
        }),
    );
    await Promise.all(exits);
    await new Promise((r) => health.close(r));
    o.log.info("steering primary stopped");
  })();
  return { health, done };
}

/**
 * In a worker: reports readiness to the primary every second (and at once when it changes), and
 * answers the primary's metrics requests from `registry`. Returns the function that stops reporting.
 */
export function reportToPrimary(ready: () => Readiness, registry: Registry): () => void {
  // Constructing one installs prom-client's listener that answers the primary's metrics requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let last = "";
  const send = (force: boolean) => {
    const r = ready();
    const key = `${r.ok} ${r.reason}`;
    if (!force && key === last) return;
    last = key;
    process.send?.({ type: "edgefleet:steering-ready", ok: r.ok, reason: r.reason } satisfies ReadyMessage);
  };
  const every = setInterval(() => send(true), 1000);
  const changes = setInterval(() => send(false), 100);
  every.unref();
  changes.unref();
  send(true);
  return () => {
    clearInterval(every);
    clearInterval(changes);
  };
}
