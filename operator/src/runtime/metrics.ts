/** Prometheus metrics under controller-runtime's names, so existing dashboards and alerts apply. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type Metrics = ReturnType<typeof makeMetrics>;

export function makeMetrics() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    }),
    reconcileErrors: new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    }),
    terminalErrors: new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    }),
    reconcileTime: new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      registers,
    }),
    leader: new Gauge({
      name: "leader_election_master_status",
      help: "Whether this process is the leader (1) or not (0)",
      labelNames: ["name"],
      registers,
    }),
  };
}

/** Metrics whose samples are computed at scrape time, all together, from what the process holds. */
export type SampleSource = Readonly<{
  metrics: readonly Readonly<{ name: string; help: string; labels: readonly string[] }>[];
  samples(): readonly Readonly<{ metric: { name: string }; labels: Readonly<Record<string, string>>; value: number }>[];
}>;

/**
 * Registers one gauge per metric of `source`; a scrape computes the samples once (not once per gauge)
 * and each gauge takes its own. Series that are gone (a deleted cluster) disappear with the next scrape.
 */
export function registerSamples(registry: Registry, source: SampleSource): void {
  let memo: { at: number; samples: ReturnType<SampleSource["samples"]> } | undefined;
  const current = () => {
    const now = Date.now();
    if (!memo || now - memo.at > 1000) memo = { at: now, samples: source.samples() };
    return memo.samples;
  };
  for (const m of source.metrics) {
    new Gauge({
      name: m.name,
      help: m.help,
      labelNames: [...m.labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of current()) if (s.metric.name === m.name) this.set(s.labels, s.value);
      },
    });
  }
}
