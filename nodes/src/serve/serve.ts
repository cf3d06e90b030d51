import { statfs } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import { type EdgeLoad, heartbeatLease } from "../../../operator/src/api/index.js";
import type { ServeConfig } from "../../../operator/src/edge/serve-config.js";
import { type KtlsProbe, ktlsReadiness, ktlsState, type Readiness } from "../ktls.js";
import { AccessLogCounter } from "./access-log.js";
import { computeLoad, type Sample } from "./heartbeat.js";
import type { HeartbeatWriter } from "./kube.js";
import { renderMetrics } from "./metrics.js";
import { readLinkKids, readStubStatus, type StubStatus } from "./stub-status.js";

export type ServeDeps = Readonly<{
  server: string;
  writer: HeartbeatWriter;
  probeKtls: () => Promise<KtlsProbe>;
  now: () => Date;
  log: Logger;
}>;

export type Agent = Readonly<{
  /** One heartbeat: sample, decide readiness, renew the Lease. Runs on a timer; exposed for tests. */
  beat(): Promise<void>;
  metricsUrl: string;
  stop(): Promise<void>;
}>;

/** Ready when nginx answers and kTLS is as the mode requires (`required` without kTLS: never ready). */
export function readiness(nginx: StubStatus | undefined, ktls: Readiness): Readiness {
  if (!nginx) return { ready: false, reason: "nginx stub_status does not answer" };
  return ktls;
}

export async function startAgent(cfg: ServeConfig, deps: ServeDeps): Promise<Agent> {
  const counter = await AccessLogCounter.listen(cfg.accessLogUdpPort);
  let prev: Sample | undefined;
  let state: { load: EdgeLoad; nginx: StubStatus | undefined; ready: Readiness } | undefined;
  let failures = 0;

  const beat = async () => {
    const [nginx, probe, fs, linkKids] = await Promise.all([
      readStubStatus(cfg.statusUrl).catch((err: unknown) => {
        deps.log.warn({ err }, "stub_status unreadable");
        return undefined;
      }),
      deps.probeKtls(),
      statfs(cfg.contentPath),
      readLinkKids(cfg.statusUrl),
    ]);
    const ktls = ktlsState(cfg.ktls, probe);
    const sample: Sample = {
      atMs: deps.now().getTime(),
      nginx,
      bytesSent: counter.bytesSent,
      diskUsedBytes: (fs.blocks - fs.bfree) * fs.bsize,
      diskTotalBytes: fs.blocks * fs.bsize,
    };
    const load = computeLoad(prev, sample, ktls);
    prev = sample;
    state = { load, nginx, ready: readiness(nginx, ktlsReadiness(cfg.ktls, probe)) };
    try {
      await deps.writer.applyLease(
        heartbeatLease({
          namespace: cfg.namespace,
          cluster: cfg.cluster,
          server: deps.server,
          load,
          now: deps.now(),
          leaseDurationSeconds: cfg.leaseDurationSeconds,
          // What nginx holds keys for: steering signs this cluster's links only with a kid all its servers hold.
          linkKids,
        }),
      );
    } catch (err) {
      failures++;
      deps.log.error({ err }, "heartbeat failed");
    }
  };

  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/healthz") return void res.writeHead(200).end("ok\n");
    if (path === "/readyz") {
      const r = state?.ready ?? { ready: false, reason: "no heartbeat yet" };
      return void res.writeHead(r.ready ? 200 : 503, { "content-type": "text/plain" }).end(`${r.reason}\n`);
    }
    if (path === "/metrics" && state) {
      const body = renderMetrics({
        cluster: cfg.cluster,
        server: deps.server,
        load: state.load,
        nginx: state.nginx,
        bytesSentTotal: counter.bytesSent,
        requestsByClass: counter.requests,
        ready: state.ready.ready,
        heartbeatFailures: failures,
      });
      return void res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((res) => http.listen(cfg.metricsPort, cfg.metricsAddress, res));

  await beat();
  // Chained rather than setInterval: a slow API server never stacks beats up.
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    timer = setTimeout(() => {
      void beat().finally(() => {
        if (!stopped) loop();
      });
    }, cfg.heartbeatSeconds * 1000);
  };
  loop();

  return {
    beat,
    metricsUrl: `http://${cfg.metricsAddress === "0.0.0.0" ? "127.0.0.1" : cfg.metricsAddress}:${cfg.metricsPort}`,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await new Promise<void>((res) => {
        http.closeAllConnections();
        http.close(() => res());
      });
      await counter.close();
    },
  };
}
