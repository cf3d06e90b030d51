/**
 * Fleet metrics: what an operator of many sites graphs and alerts on, read at scrape time from what the
 * operator already caches (OCAClusters and their status, Placements, heartbeat Leases), the way
 * kube-state-metrics reads objects. Pure: samples from observations. Prometheus conventions: the
 * `edgefleet_` prefix, base units (bytes, seconds), and only bounded labels: `cluster` and `server`
 * (plus `phase` and `state`, enums); never a client address or a title. Every operator replica caches
 * the same objects and exports the same values: aggregate with max by (cluster, server).
 */
import {
  byAge,
  type OCACluster,
  type Placement,
  parseBitsPerSecond,
  phaseOf,
  type ServerStatus,
} from "../api/index.js";
import { serversOf } from "../catalog/servers.js";
import { fillWindowState } from "./fill-window.js";

export type FleetMetric = Readonly<{ name: string; help: string; labels: readonly string[] }>;

/** Every fleet metric the operator exports; the chart's alerts and dashboard name only these (a test checks). */
export const fleetMetrics = {
  trafficShare: {
    name: "edgefleet_server_traffic_share",
    help: "Expected fraction (0-1) of its cluster's traffic the server takes under the newest live Placement",
    labels: ["cluster", "server"],
  },
  throughputShare: {
    name: "edgefleet_server_throughput_share",
    help: "Fraction (0-1) of its cluster's serving throughput the server has (spec.serverClasses)",
    labels: ["cluster", "server"],
  },
  storageCapacity: {
    name: "edgefleet_server_storage_capacity_bytes",
    help: "Content disk of the server (its class's storage)",
    labels: ["cluster", "server"],
  },
  expectedStored: {
    name: "edgefleet_server_expected_stored_bytes",
    help: "Bytes the server is expected to store under the newest live Placement",
    labels: ["cluster", "server"],
  },
  healthy: {
    name: "edgefleet_server_healthy",
    help: "1 when the server's heartbeat Lease is fresh (status.servers[].health Healthy), else 0",
    labels: ["cluster", "server"],
  },
  heartbeatAge: {
    name: "edgefleet_server_heartbeat_age_seconds",
    help: "Seconds since this operator saw the server's heartbeat Lease renewed (servers never seen: absent)",
    labels: ["cluster", "server"],
  },
  heartbeatLease: {
    name: "edgefleet_server_heartbeat_lease_duration_seconds",
    help: "The lease duration the server's heartbeat claims: stale once its age exceeds this",
    labels: ["cluster", "server"],
  },
  placements: {
    name: "edgefleet_cluster_placements",
    help: "Placements of the cluster by phase (Pending, Filling, Active, Superseded)",
    labels: ["cluster", "phase"],
  },
  windowOpen: {
    name: "edgefleet_fill_window_open",
    help: "1 while the cluster's off-peak fill window is open",
    labels: ["cluster"],
  },
  windowEnd: {
    name: "edgefleet_fill_window_end_timestamp_seconds",
    help: "Unix time the cluster's current (or next) fill window closes",
    labels: ["cluster"],
  },
  bandwidthCap: {
    name: "edgefleet_fill_bandwidth_cap_bytes_per_second",
    help: "Fill traffic the site may pull, all servers together (spec.fill.bandwidthCap)",
    labels: ["cluster"],
  },
  fillServers: {
    name: "edgefleet_fill_servers",
    help: "Servers of the Placement being filled (none: 0) whose fill completed (filled) or not (unfilled)",
    labels: ["cluster", "state"],
  },
  fillRemaining: {
    name: "edgefleet_fill_remaining_bytes",
    help: "Bytes the Placement being filled must still fetch: its churn, less the expected share of the servers filled",
    labels: ["cluster"],
  },
} as const satisfies Record<string, FleetMetric>;

export type Sample = Readonly<{ metric: FleetMetric; labels: Readonly<Record<string, string>>; value: number }>;

/** A server's heartbeat as the operator observed it. */
export type SeenHeartbeat = Readonly<{ leaseDurationSeconds: number; observedAt: number }>;

export type FleetObservation = Readonly<{
  clusters: readonly OCACluster[];
  placements: readonly Placement[];
  /** By "<namespace>/<cluster>/<server>". */
  heartbeats: ReadonlyMap<string, SeenHeartbeat>;
  now: Date;
}>;

export function fleetSamples(o: FleetObservation): Sample[] {
  return o.clusters.flatMap((c) => [...serverSamples(c, o), ...fillSamples(c, o)]);
}

function serverSamples(c: OCACluster, o: FleetObservation): Sample[] {
  const cluster = c.metadata.name;
  const servers = serversOf(c.spec);
  const total = servers.reduce((a, s) => a + s.throughputBitsPerSec, 0);
  const status = new Map((c.status?.servers ?? []).map((s): [string, ServerStatus] => [s.name, s]));
  return servers.flatMap((s) => {
    const labels = { cluster, server: s.name };
    const st = status.get(s.name);
    const hb = o.heartbeats.get(`${c.metadata.namespace ?? ""}/${cluster}/${s.name}`);
    const m = fleetMetrics;
    return [
      { metric: m.throughputShare, labels, value: total > 0 ? s.throughputBitsPerSec / total : 0 },
      { metric: m.storageCapacity, labels, value: s.storageBytes },
      ...(st
        ? [
            { metric: m.trafficShare, labels, value: st.trafficShare },
            { metric: m.expectedStored, labels, value: st.expectedBytes },
            { metric: m.healthy, labels, value: st.health === "Healthy" ? 1 : 0 },
          ]
        : []),
      ...(hb
        ? [
            { metric: m.heartbeatAge, labels, value: Math.max(0, (o.now.getTime() - hb.observedAt) / 1000) },
            { metric: m.heartbeatLease, labels, value: hb.leaseDurationSeconds },
          ]
        : []),
    ];
  });
}

const phases = ["Pending", "Filling", "Active", "Superseded"] as const;

function fillSamples(c: OCACluster, o: FleetObservation): Sample[] {
  const cluster = c.metadata.name;
  const mine = o.placements.filter((p) => p.spec.cluster === cluster).sort(byAge);
  const window = fillWindowState(c.spec.fill.window, o.now);
  const pending = mine.filter((p) => phaseOf(p) === "Pending" || phaseOf(p) === "Filling").at(-1);
  const expected = pending?.status?.servers ?? [];
  const filled = new Set(pending?.status?.filledServers ?? []);
  const all = expected.reduce((a, s) => a + s.expectedBytes, 0);
  const unfilledShare =
    all > 0 ? expected.filter((s) => !filled.has(s.name)).reduce((a, s) => a + s.expectedBytes, 0) / all : 0;
  const toFetch = pending?.status?.churn?.bytes ?? all;
  const unfilled = pending ? pending.spec.servers.filter((s) => !filled.has(s.name)).length : 0;
  const m = fleetMetrics;
  return [
    ...phases.map((phase) => ({
      metric: m.placements,
      labels: { cluster, phase },
      value: mine.filter((p) => phaseOf(p) === phase).length,
    })),
    { metric: m.windowOpen, labels: { cluster }, value: window.open ? 1 : 0 },
    { metric: m.windowEnd, labels: { cluster }, value: window.end.getTime() / 1000 },
    { metric: m.bandwidthCap, labels: { cluster }, value: parseBitsPerSecond(c.spec.fill.bandwidthCap) / 8 },
    { metric: m.fillServers, labels: { cluster, state: "filled" }, value: pending ? filled.size : 0 },
    { metric: m.fillServers, labels: { cluster, state: "unfilled" }, value: unfilled },
    { metric: m.fillRemaining, labels: { cluster }, value: pending ? Math.round(toFetch * unfilledShare) : 0 },
  ];
}
