/**
 * The chart's alerts and dashboard read only metrics the code really exports: the operator, steering and
 * an edge agent (beside a real nginx) run against the local control plane with a sample cluster, its
 * Titles, its Popularity and a heartbeat, their real /metrics endpoints are scraped, and every metric
 * name in an alert's or a dashboard query's PromQL must be among what they declare.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServeConfig } from "../../nodes/src/serve/config.js";
import { kubeHeartbeatWriter } from "../../nodes/src/serve/kube.js";
import { startAgent } from "../../nodes/src/serve/serve.js";
import { freePort, MASTER, startNginx, tempDir } from "../../nodes/test/harness.js";
import { sampleFleet } from "../../operator/src/api/testdata/samples.js";
import { STATUS_LOCATION } from "../../operator/src/edge/nginx-config.js";
import { startOperator } from "../../operator/src/operator.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { fixedLinkKeys } from "../../operator/src/steering/link-keys.js";
import { startSteering } from "../../operator/src/steering/process.js";
import { allQueries, exportedNames, metricNames } from "../monitoring/queries.js";
import { eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";
import { operatorOptions, steeringOptions } from "./processes.js";

const ns = `mon-${Date.now().toString(36)}`;
const fleet = sampleFleet(new Date());
const ams = fleet.clusters.filter((c) => c.metadata.name === "ams-polder-1");
const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });

describe("metrics the chart's alerts and dashboard read", () => {
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  const stops: (() => Promise<void>)[] = [];
  const endpoints: Record<string, string> = {};

  beforeAll(async () => {
    const kube = await Kube.connect(kubeconfig());
    await installCrds();
    await kubectlOk(["create", "namespace", ns]);
    await kubectlOk(["create", "serviceaccount", "edgefleet-agent", "-n", ns]);
    // No Nodes: the fill Jobs need not run for the metrics to exist, and the other suites' Nodes keep
    // their names to themselves.
    await kubectlOk(
      ["apply", "--server-side", "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: [...ams, ...fleet.titles, ...fleet.popularities] }),
    );

    const op = await startOperator(operatorOptions({ kube, log, namespace: ns }), stop.signal);
    running.push(op.done);
    endpoints.operator = `http://127.0.0.1:${(op.health.address() as AddressInfo).port}/metrics`;

    const st = await startSteering(
      steeringOptions({
        kube,
        log,
        namespace: ns,
        linkKeys: fixedLinkKeys({ keys: new Map([["k1", MASTER]]), primary: "k1" }),
      }),
      stop.signal,
    );
    running.push(st.done);
    endpoints.steering = `http://127.0.0.1:${(st.health?.address() as AddressInfo | undefined)?.port}/metrics`;

    // The edge agent of server s01 beside a real nginx: it heartbeats, so the operator sees s01 live.
    const dir = await tempDir("monitoring-it-");
    const content = join(dir, "content");
    await mkdir(content, { recursive: true });
    const nginx = await startNginx(dir, content, { accessLogUdpPort: await freePort() });
    stops.push(() => nginx.stop());
    const server = "s01";
    const cfg = parseServeConfig({
      namespace: ns,
      cluster: "ams-polder-1",
      servers: {},
      ktls: "auto",
      contentPath: content,
      statusUrl: `http://127.0.0.1:${nginx.settings.statusPort}${STATUS_LOCATION}`,
      accessLogUdpPort: nginx.settings.accessLogUdpPort ?? 0,
      metricsPort: await freePort(),
      metricsAddress: "127.0.0.1",
      heartbeatSeconds: 1,
      leaseDurationSeconds: 10,
    });
    const agent = await startAgent(cfg, {
      server,
      writer: kubeHeartbeatWriter(kube),
      probeKtls: async () => ({ ulps: [], tlsStat: undefined }),
      now: () => new Date(),
      log,
    });
    stops.push(() => agent.stop());
    endpoints.edge = `${agent.metricsUrl}/metrics`;

    await eventually(async () => {
      const o = JSON.parse(await kubectlOk(["get", "oca", "ams-polder-1", "-n", ns, "-o", "json"]));
      const s01 = (o.status?.servers ?? []).find((s: { name: string }) => s.name === server);
      return s01?.health === "Healthy" ? true : undefined;
    }, "s01 Healthy in the cluster's status");
    // One answer of each API, so steering's request series exist.
    const api = `http://127.0.0.1:${(st.server.address() as AddressInfo).port}`;
    await eventually(
      async () => ((await fetch(`${api}/v1/steering?ip=100.64.0.1`)).status !== 503 ? true : undefined),
      "steering synced",
    );
    await fetch(`${api}/v1/playback/${fleet.titles[0]?.metadata.name}?ip=100.64.0.1`);
  });

  afterAll(async () => {
    stop.abort();
    await Promise.all(running);
    for (const s of stops) await s();
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("every metric an alert or a dashboard query names is exported by the operator, steering or the edge agent", async () => {
    const exported = new Set<string>();
    for (const [who, url] of Object.entries(endpoints)) {
      const res = await fetch(url);
      expect(res.status, who).toBe(200);
      for (const n of exportedNames(await res.text())) exported.add(n);
    }
    const missing = allQueries().flatMap((q) =>
      metricNames(q.expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${q.where}: ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it("labels the fleet and edge series with cluster and server, and nothing unbounded", async () => {
    const text = (await Promise.all(Object.values(endpoints).map(async (u) => (await fetch(u)).text()))).join("\n");
    const fleetLines = text.split("\n").filter((l) => /^edgefleet_(server|edge)_\w+\{/.test(l));
    expect(fleetLines.length).toBeGreaterThan(10);
    for (const l of fleetLines) expect(l, l).toMatch(/cluster="ams-polder-1",server="[a-z0-9-]+"/);
    const labelNames = new Set(
      [...text.matchAll(/^edgefleet_\w+\{([^}]*)\}/gm)].flatMap((m) =>
        (m[1] ?? "").split(",").map((kv) => kv.split("=")[0] ?? ""),
      ),
    );
    expect([...labelNames].sort()).toEqual(
      [...labelNames].filter((n) => ["cluster", "server", "phase", "state", "route", "code", "le"].includes(n)).sort(),
    );
  });
});
