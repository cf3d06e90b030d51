/**
 * `POST /v1/telemetry`: players' QoE reports (api/telemetry.ts), validated and turned into Prometheus
 * histograms per cluster: startup seconds (from `start` reports), and from `end` reports the session's
 * rebuffer ratio, mean bitrate and failovers.
 *
 * Bounded: a body over TELEMETRY_MAX_BYTES is refused without being read further; nothing is kept per
 * session; the cluster label is the cluster whose server the report names, or "unknown", so label
 * values are bounded by the fleet, not by what clients send. Every refusal is a JSON 400 naming the
 * field and the rule.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Histogram, type Registry } from "prom-client";
import { z } from "zod";
import { TELEMETRY_MAX_BYTES, TelemetryReport } from "../api/telemetry.js";
import type { ClusterView } from "./snapshot.js";

export type TelemetryMetrics = Readonly<{
  startup: Histogram<"cluster">;
  rebufferRatio: Histogram<"cluster">;
  bitrate: Histogram<"cluster">;
  failovers: Histogram<"cluster">;
  reports: Counter<"kind" | "result">;
}>;

export function telemetryMetrics(registry: Registry): TelemetryMetrics {
  const h = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames: ["cluster"] as const, buckets, registers: [registry] });
  return {
    startup: h(
      "edgefleet_playback_startup_seconds",
      "Seconds from a playback request to the first frame, per cluster serving the session",
      [0.25, 0.5, 1, 2, 4, 8, 16],
    ),
    rebufferRatio: h(
      "edgefleet_playback_rebuffer_ratio",
      "Per ended session: seconds stalled ÷ seconds played",
      [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2],
    ),
    bitrate: h(
      "edgefleet_playback_bitrate_kbps",
      "Per ended session: mean bitrate of the chunks fetched, kbit/s",
      [300, 750, 1500, 3000, 6000, 12000, 20000],
    ),
    failovers: h(
      "edgefleet_playback_failovers",
      "Per ended session: downloads given up on one server for the next",
      [0, 1, 2, 4, 8, 16],
    ),
    reports: new Counter({
      name: "edgefleet_playback_reports_total",
      help: "Telemetry reports received, by kind and whether they were accepted",
      labelNames: ["kind", "result"] as const,
      registers: [registry],
    }),
  };
}

export type TelemetryReply = Readonly<{ status: number; body: unknown }>;

const invalid = (message: string): TelemetryReply => ({
  status: 400,
  body: { error: { code: "InvalidReport", message } },
});

/** Reads at most `max` bytes of the body; undefined when it is longer (the rest is not read). */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > max) return undefined;
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Which cluster a server address belongs to, from the clusters steering knows. */
export function clusterOfServer(clusters: readonly ClusterView[], host: string): string {
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  for (const c of clusters) for (const s of c.servers) if (s.ipv4 === bare || s.ipv6 === bare) return c.name;
  return "unknown";
}

/** Validates a report body and records it; pure but for the metrics it observes. */
export function acceptReport(
  body: Buffer | undefined,
  clusters: readonly ClusterView[],
  m: TelemetryMetrics | undefined,
): TelemetryReply {
  if (body === undefined) return invalid(`body: must be at most ${TELEMETRY_MAX_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return invalid("body: must be JSON");
  }
  const parsed = TelemetryReport.safeParse(json);
  if (!parsed.success) {
    m?.reports.inc({ kind: "invalid", result: "rejected" });
    return invalid(z.prettifyError(parsed.error));
  }
  const r = parsed.data;
  if (r.kind === "start" && r.startupMs === undefined) return invalid("startupMs: required in a start report");
  const cluster = clusterOfServer(clusters, r.server);
  if (m !== undefined) {
    m.reports.inc({ kind: r.kind, result: "accepted" });
    if (r.kind === "start" && r.startupMs !== undefined) m.startup.observe({ cluster }, r.startupMs / 1000);
    if (r.kind === "end") {
      m.rebufferRatio.observe({ cluster }, r.playedMs > 0 ? r.rebufferMs / r.playedMs : 0);
      m.bitrate.observe({ cluster }, r.bitrateKbps);
      m.failovers.observe({ cluster }, r.failovers);
    }
  }
  return { status: 202, body: { accepted: true, cluster } };
}

export const TELEMETRY_PATH = "/v1/telemetry";

/** Answers one `POST /v1/telemetry`: reads the bounded body, validates, records, replies JSON. */
export async function handleTelemetry(
  req: IncomingMessage,
  res: ServerResponse,
  clusters: () => readonly ClusterView[],
  m: TelemetryMetrics | undefined,
): Promise<void> {
  let reply: TelemetryReply;
  try {
    reply = acceptReport(await readBody(req, TELEMETRY_MAX_BYTES), clusters(), m);
  } catch {
    reply = invalid("body: the request broke off");
  }
  const body = Buffer.from(JSON.stringify(reply.body));
  // An oversized body was not read to its end: the connection cannot carry another request.
  const close = reply.status === 400 && !req.readableEnded;
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": body.length,
    "cache-control": "no-store",
    ...(close ? { connection: "close" } : {}),
  });
  res.end(body);
}
