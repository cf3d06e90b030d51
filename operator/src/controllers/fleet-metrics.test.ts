import { describe, expect, it } from "vitest";
import { mustParse, type Placement } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import { fleetSamples, type Sample } from "./fleet-metrics.js";

const cluster = mustParse("OCACluster", {
  ...sample("OCACluster", "ams-polder-1"),
  metadata: { name: "ams-polder-1", namespace: "ns" },
});
cluster.spec.fill.window = { start: "02:00", end: "06:00", timeZone: "UTC" };
cluster.status = {
  servers: cluster.spec.servers.map((s, i) => ({
    name: s.name,
    headTokens: 1,
    tailTokens: 1,
    expectedBytes: 1000 * (i + 1),
    trafficShare: i === 0 ? 0.5 : 0.1,
    health: i === 0 ? "Stale" : "Healthy",
  })),
};
const filling: Placement = {
  ...mustParse("Placement", sample("Placement", "ams-polder-1-2026-08-14")),
  status: {
    phase: "Filling",
    filledServers: ["s01", "s02"],
    servers: cluster.spec.servers.map((s) => ({ name: s.name, expectedBytes: 100, trafficShare: 1 / 6 })),
    churn: { previous: "old", files: 10, bytes: 6000 },
  },
};
const at = new Date("2026-11-26T03:00:00Z");

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find((s) => s.metric.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("fleetSamples", () => {
  const samples = fleetSamples({
    clusters: [cluster],
    placements: [filling],
    heartbeats: new Map([["ns/ams-polder-1/s02", { leaseDurationSeconds: 30, observedAt: at.getTime() - 12_000 }]]),
    now: at,
  });

  it.each([
    { name: "edgefleet_server_traffic_share", labels: { server: "s01" }, want: 0.5 },
    // 4 storage servers of 40 Gbps and 2 flash of 100 Gbps: 360 Gbps in all.
    { name: "edgefleet_server_throughput_share", labels: { server: "f01" }, want: 100 / 360 },
    { name: "edgefleet_server_storage_capacity_bytes", labels: { server: "s01" }, want: 200 * 2 ** 40 },
    { name: "edgefleet_server_expected_stored_bytes", labels: { server: "s02" }, want: 2000 },
    { name: "edgefleet_server_healthy", labels: { server: "s01" }, want: 0 },
    { name: "edgefleet_server_healthy", labels: { server: "s02" }, want: 1 },
    { name: "edgefleet_server_heartbeat_age_seconds", labels: { server: "s02" }, want: 12 },
    { name: "edgefleet_server_heartbeat_age_seconds", labels: { server: "s01" }, want: undefined },
    { name: "edgefleet_cluster_placements", labels: { phase: "Filling" }, want: 1 },
    { name: "edgefleet_cluster_placements", labels: { phase: "Active" }, want: 0 },
    { name: "edgefleet_fill_window_open", labels: {}, want: 1 },
    {
      name: "edgefleet_fill_window_end_timestamp_seconds",
      labels: {},
      want: Date.parse("2026-11-26T06:00:00Z") / 1000,
    },
    { name: "edgefleet_fill_servers", labels: { state: "filled" }, want: 2 },
    { name: "edgefleet_fill_servers", labels: { state: "unfilled" }, want: 4 },
    // 4 of 6 equal servers unfilled: two thirds of the 6000 bytes of churn.
    { name: "edgefleet_fill_remaining_bytes", labels: {}, want: 4000 },
  ] as { name: string; labels: Record<string, string>; want: number | undefined }[])(
    "$name $labels = $want",
    ({ name, labels, want }) => {
      const v = value(samples, name, { cluster: "ams-polder-1", ...labels });
      if (want === undefined) expect(v).toBeUndefined();
      else expect(v).toBeCloseTo(want, 9);
    },
  );

  it("labels every sample with bounded labels only: cluster, server, phase, state", () => {
    for (const s of samples)
      for (const k of Object.keys(s.labels)) expect(["cluster", "server", "phase", "state"]).toContain(k);
  });
});
