import type { EdgeLoad } from "../../../operator/src/api/index.js";
import type { StubStatus } from "./stub-status.js";

export type MetricsInput = Readonly<{
  /** On every sample, so the agent's series join the operator's fleet metrics by (cluster, server). */
  cluster: string;
  server: string;
  load: EdgeLoad;
  nginx: StubStatus | undefined;
  bytesSentTotal: number;
  requestsByClass: ReadonlyMap<string, number>;
  ready: boolean;
  heartbeatFailures: number;
}>;

/** Prometheus text exposition (version 0.0.4) of the edge node. */
export function renderMetrics(m: MetricsInput): string {
  const lines: string[] = [];
  // Names are DNS labels (the API validates them), so they need no escaping.
  const own = `cluster="${m.cluster}",server="${m.server}"`;
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}{${[own, labels].filter(Boolean).join(",")}} ${v}`);
  };
  metric("edgefleet_edge_up", "gauge", "1 when nginx's stub_status answers.", [["", m.nginx ? 1 : 0]]);
  metric("edgefleet_edge_ready", "gauge", "1 when the node may take traffic (nginx up, kTLS as required).", [
    ["", m.ready ? 1 : 0],
  ]);
  metric("edgefleet_edge_ktls_active", "gauge", "1 when nginx serves HTTPS with kernel TLS.", [
    ["", m.load.ktls === "active" ? 1 : 0],
  ]);
  metric("edgefleet_edge_connections", "gauge", "Open client connections (nginx active).", [["", m.load.connections]]);
  metric("edgefleet_edge_requests_total", "counter", "Requests nginx accepted (stub_status).", [
    ["", m.nginx?.requests ?? 0],
  ]);
  metric(
    "edgefleet_edge_responses_total",
    "counter",
    "Responses by status class, from nginx's access log.",
    [...m.requestsByClass].sort().map(([c, n]) => [`code="${c}"`, n]),
  );
  metric("edgefleet_edge_sent_bytes_total", "counter", "Bytes sent to clients, from nginx's access log.", [
    ["", m.bytesSentTotal],
  ]);
  metric("edgefleet_edge_sent_bytes_per_second", "gauge", "Send rate over the last heartbeat interval.", [
    ["", m.load.bytesPerSec],
  ]);
  metric("edgefleet_edge_disk_used_bytes", "gauge", "Used bytes on the content disk.", [["", m.load.diskUsedBytes]]);
  metric("edgefleet_edge_disk_total_bytes", "gauge", "Size of the content disk.", [["", m.load.diskTotalBytes]]);
  metric("edgefleet_edge_heartbeat_failures_total", "counter", "Lease writes that failed.", [
    ["", m.heartbeatFailures],
  ]);
  return `${lines.join("\n")}\n`;
}
