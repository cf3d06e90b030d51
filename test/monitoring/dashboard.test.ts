/** The chart's Grafana dashboard (charts/edgefleet/files/dashboard.json) is a well-formed dashboard. */
import { describe, expect, it } from "vitest";
import { allQueries, dashboard, dashboardQueries, metricNames } from "./queries.js";

describe("Grafana dashboard", () => {
  it("is valid JSON with a uid, a title and panels that each query something", () => {
    const d = dashboard();
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.title).toBeTruthy();
    const panels = d.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(8);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it("has unique panel ids", () => {
    const ids = dashboard().panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("every query (dashboard and alerts) reads at least one of our metrics", () => {
    for (const q of allQueries()) expect(metricNames(q.expr), q.where).not.toEqual([]);
    expect(dashboardQueries().length).toBeGreaterThan(10);
  });

  it("covers what the issue asks for: traffic vs throughput, fill vs window, heartbeat age, steering rate and latency", () => {
    const names = new Set(dashboardQueries().flatMap((q) => metricNames(q.expr)));
    for (const n of [
      "edgefleet_server_traffic_share",
      "edgefleet_server_throughput_share",
      "edgefleet_fill_remaining_bytes",
      "edgefleet_fill_window_end_timestamp_seconds",
      "edgefleet_server_heartbeat_age_seconds",
      "edgefleet_steering_requests_total",
      "edgefleet_steering_request_duration_seconds_bucket",
    ])
      expect(names.has(n), n).toBe(true);
  });
});
