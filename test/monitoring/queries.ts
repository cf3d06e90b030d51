/**
 * The PromQL the chart ships: every alert's expression (files/alerts.yaml) and every dashboard query
 * (files/dashboard.json), and the metric names they read. Shared by the unit tests (promtool, JSON) and
 * the integration test that scrapes the real /metrics endpoints.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const alertsFile = join(repoRoot, "charts", "edgefleet", "files", "alerts.yaml");
export const dashboardFile = join(repoRoot, "charts", "edgefleet", "files", "dashboard.json");
export const promtoolTests = join(import.meta.dirname, "alerts.promtool.yaml");

export type Alert = Readonly<{
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}>;
export const alerts = (): Alert[] =>
  (parse(readFileSync(alertsFile, "utf8")) as { groups: { rules: Alert[] }[] }).groups.flatMap((g) => g.rules);

type Panel = { id: number; title?: string; type: string; targets?: { expr: string }[]; panels?: Panel[] };
export type Dashboard = {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
};
/** Throws SyntaxError when the file is not JSON. */
export const dashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, "utf8")) as Dashboard;

/** Every query of the dashboard: panel targets and template variables' definitions. */
export function dashboardQueries(d: Dashboard = dashboard()): { where: string; expr: string }[] {
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ...d.templating.list.flatMap((v) => (v.definition ? [{ where: `variable ${v.name}`, expr: v.definition }] : [])),
  ];
}

export const allQueries = (): { where: string; expr: string }[] => [
  ...alerts().map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })),
  ...dashboardQueries(),
];

/**
 * The metric names an expression reads: identifiers with one of our processes' prefixes (edgefleet_,
 * and controller-runtime's controller_runtime_, workqueue_, leader_election_). Label names and PromQL
 * functions never carry them.
 */
export function metricNames(expr: string): string[] {
  const names = expr.match(/\b(?:edgefleet|controller_runtime|workqueue|leader_election)_[a-zA-Z0-9_]*/g) ?? [];
  return [...new Set(names)].sort();
}

/**
 * The metric names a Prometheus text exposition declares: each sample's name, and each `# TYPE` (for a
 * histogram also its _bucket, _sum and _count), so a gauge with no series yet still counts as exported.
 */
export function exportedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type?.[1]) {
      out.add(type[1]);
      if (type[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) out.add(`${type[1]}${s}`);
    } else if (line && !line.startsWith("#")) out.add(line.split(/[{\s]/)[0] ?? "");
  }
  return out;
}
