import { describe, expect, it } from "vitest";
import { parseAccessLine } from "./access-log.js";
import { parseServeConfig, serverFor } from "./config.js";
import { computeLoad, type Sample } from "./heartbeat.js";
import { renderMetrics } from "./metrics.js";
import { parseStubStatus } from "./stub-status.js";

const STUB = "Active connections: 3 \nserver accepts handled requests\n 10 10 31 \nReading: 0 Writing: 2 Waiting: 1 \n";

describe("parseStubStatus", () => {
  it("reads nginx's page", () =>
    expect(parseStubStatus(STUB)).toEqual({
      active: 3,
      accepts: 10,
      handled: 10,
      requests: 31,
      reading: 0,
      writing: 2,
      waiting: 1,
    }));
  it("rejects anything else", () => expect(() => parseStubStatus("<html>")).toThrow(/stub_status/));
});

describe("parseAccessLine", () => {
  it.each([
    { msg: "<190>Nov  1 12:00:00 edgefleet: 206 2097152", want: { status: 206, bytesSent: 2097152 } },
    { msg: "<190>Nov 11 02:03:04 edgefleet: 403 153\n", want: { status: 403, bytesSent: 153 } },
    { msg: "<190>Nov  1 12:00:00 other: 200 5", want: undefined },
    { msg: "garbage", want: undefined },
  ])("$msg", ({ msg, want }) => expect(parseAccessLine(msg)).toEqual(want));
});

describe("computeLoad", () => {
  const s = (atMs: number, bytesSent: number): Sample => ({
    atMs,
    nginx: parseStubStatus(STUB),
    bytesSent,
    diskUsedBytes: 5,
    diskTotalBytes: 10,
  });
  it.each([
    { name: "first sample → 0 B/s", prev: undefined, cur: s(1000, 500), want: 0 },
    { name: "rate over the interval", prev: s(0, 0), cur: s(2000, 5000), want: 2500 },
    { name: "counter reset (agent restart) → 0, never negative", prev: s(0, 9000), cur: s(1000, 10), want: 0 },
  ])("$name", ({ prev, cur, want }) => {
    const l = computeLoad(prev, cur, "unavailable");
    expect(l).toEqual({ connections: 3, bytesPerSec: want, diskUsedBytes: 5, diskTotalBytes: 10, ktls: "unavailable" });
  });
});

describe("renderMetrics", () => {
  it("exposes Prometheus text", () => {
    const text = renderMetrics({
      cluster: "ams",
      server: "s01",
      load: { connections: 3, bytesPerSec: 100, diskUsedBytes: 5, diskTotalBytes: 10, ktls: "unavailable" },
      nginx: parseStubStatus(STUB),
      bytesSentTotal: 12345,
      requestsByClass: new Map([
        ["4xx", 2],
        ["2xx", 7],
      ]),
      ready: true,
      heartbeatFailures: 0,
    });
    const own = 'cluster="ams",server="s01"';
    expect(text).toContain(
      `# TYPE edgefleet_edge_sent_bytes_total counter\nedgefleet_edge_sent_bytes_total{${own}} 12345\n`,
    );
    expect(text).toContain(
      `edgefleet_edge_responses_total{${own},code="2xx"} 7\nedgefleet_edge_responses_total{${own},code="4xx"} 2`,
    );
    expect(text).toContain(`edgefleet_edge_ktls_active{${own}} 0`);
    expect(text).toContain(`edgefleet_edge_requests_total{${own}} 31`);
  });
});

const base = {
  namespace: "edge",
  cluster: "edge-a",
  ktls: "auto",
  contentPath: "/data",
  statusUrl: "http://127.0.0.1:8081/nginx_status",
  accessLogUdpPort: 5514,
  metricsPort: 9100,
};

describe("parseServeConfig", () => {
  it.each([
    { name: "bad ktls", over: { ktls: "yes" }, field: "serve.ktls" },
    { name: "https status url", over: { statusUrl: "https://127.0.0.1/x" }, field: "serve.statusUrl" },
    { name: "port 0", over: { metricsPort: 0 }, field: "serve.metricsPort" },
    { name: "cluster not a DNS label", over: { cluster: "Edge_A" }, field: "serve.cluster" },
    {
      name: "a renewal interval over a third of the lease",
      over: { heartbeatSeconds: 11, leaseDurationSeconds: 30 },
      field: "serve.heartbeatSeconds",
    },
    {
      name: "a renewal interval over the default lease",
      over: { heartbeatSeconds: 60 },
      field: "serve.heartbeatSeconds",
    },
  ])("rejects $name, naming $field", ({ over, field }) => {
    expect(() => parseServeConfig({ ...base, ...over })).toThrow(`${field}:`);
  });

  it("takes the defaults: a renewal every 10 s on a 30 s lease", () => {
    const cfg = parseServeConfig(base);
    expect([cfg.heartbeatSeconds, cfg.leaseDurationSeconds]).toEqual([10, 30]);
  });
});

describe("serverFor", () => {
  const cfg = parseServeConfig({ ...base, servers: { "node-1.example": "s01" } });
  it.each([
    { name: "node in the map", node: "node-1.example", override: undefined, want: "s01" },
    { name: "--server wins", node: "node-1.example", override: "s07", want: "s07" },
  ])("$name → $want", ({ node, override, want }) => expect(serverFor(cfg, node, override)).toBe(want));
  it("a node the map does not name is an error naming --node", () =>
    expect(() => serverFor(cfg, "node-9", undefined)).toThrow(/--node: node "node-9" is not in serve.servers/));
});
