import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSteeringServer, type SteeringServer } from "./http.js";
import type { ClusterView } from "./snapshot.js";
import { SteeringStore } from "./store.js";
import { clusterOfServer, telemetryMetrics } from "./telemetry.js";

const cluster: ClusterView = {
  name: "isp-a",
  region: "eu-west",
  asn: 64500,
  location: { lat: 48.86, lon: 2.35 },
  servers: [{ name: "a-1", ipv4: "192.0.2.1", ipv6: "2001:db8:a::1" }],
  prefixes: [{ cidr: "198.51.100.0/24", asPath: [64500], med: 0, localPref: 200 }],
};

const report = (over: Record<string, unknown> = {}) => ({
  session: "0f1e2d3c-4b5a",
  title: "night-harbor",
  kind: "end",
  server: "192.0.2.1",
  rebufferMs: 500,
  playedMs: 100_000,
  bitrateKbps: 3000,
  failovers: 1,
  ...over,
});

describe("POST /v1/telemetry", () => {
  const registry = new Registry();
  const store = new SteeringStore();
  let server: SteeringServer;
  let base: string;
  beforeAll(async () => {
    store.setClusters([cluster]);
    server = createSteeringServer(
      {},
      { state: () => store.state, now: Date.now, telemetry: telemetryMetrics(registry) },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const post = async (body: string) => {
    const res = await fetch(`${base}/v1/telemetry`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    return {
      status: res.status,
      json: (await res.json()) as { error?: { code: string; message: string }; cluster?: string },
    };
  };

  it("an end report lands in the cluster's histograms; a start report in startup", async () => {
    expect(await post(JSON.stringify(report()))).toEqual({ status: 202, json: { accepted: true, cluster: "isp-a" } });
    expect(
      (await post(JSON.stringify(report({ kind: "start", startupMs: 420, server: "[2001:db8:a::1]" })))).status,
    ).toBe(202);
    const text = await registry.metrics();
    expect(text).toContain('edgefleet_playback_rebuffer_ratio_bucket{le="0.005",cluster="isp-a"} 1');
    expect(text).toContain('edgefleet_playback_bitrate_kbps_sum{cluster="isp-a"} 3000');
    expect(text).toContain('edgefleet_playback_failovers_count{cluster="isp-a"} 1');
    expect(text).toContain('edgefleet_playback_startup_seconds_bucket{le="0.5",cluster="isp-a"} 1');
  });

  it.each([
    { name: "not JSON", body: "{", field: "body: must be JSON" },
    { name: "unknown field", body: JSON.stringify(report({ extra: 1 })), field: "extra" },
    { name: "negative rebuffer", body: JSON.stringify(report({ rebufferMs: -1 })), field: "rebufferMs" },
    {
      name: "startup over 10 min",
      body: JSON.stringify(report({ kind: "start", startupMs: 600_001 })),
      field: "startupMs",
    },
    { name: "fractional failovers", body: JSON.stringify(report({ failovers: 1.5 })), field: "failovers" },
    { name: "bad title", body: JSON.stringify(report({ title: "Not A Title" })), field: "title" },
    { name: "bad kind", body: JSON.stringify(report({ kind: "pause" })), field: "kind" },
    { name: "start without startup", body: JSON.stringify(report({ kind: "start" })), field: "startupMs: required" },
    {
      name: "oversized",
      body: JSON.stringify(report({ server: "x".repeat(5000) })),
      field: "body: must be at most 4096 bytes",
    },
  ])("$name: JSON 400 naming the field", async ({ body, field }) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json.error?.code).toBe("InvalidReport");
    expect(r.json.error?.message).toContain(field);
  });

  it("a server steering does not know counts as cluster unknown: labels stay bounded by the fleet", async () => {
    expect((await post(JSON.stringify(report({ server: "10.9.9.9" })))).json.cluster).toBe("unknown");
    expect(clusterOfServer([cluster], "[2001:db8:a::1]")).toBe("isp-a");
  });

  it("a huge body is refused without being read to its end", async () => {
    const r = await post("x".repeat(10 * 1024 * 1024));
    expect(r.status).toBe(400);
  });

  it("other methods and paths are still the service's", async () => {
    expect((await fetch(`${base}/v1/telemetry`)).status).toBe(404);
    expect((await fetch(`${base}/v1/other`, { method: "POST", body: "{}" })).status).toBe(405);
  });
});
