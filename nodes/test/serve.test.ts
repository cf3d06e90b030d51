// serve mode beside the real nginx: nginx's stub_status and its per-request syslog lines feed the
// agent's /metrics and heartbeat. The Lease goes to a recorder here: writing it to a real API server
// belongs with the integration suite (test/integration), which owns the shared control plane.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KtlsProbe, probeKtls } from "../src/ktls.js";
import { STATUS_LOCATION } from "../src/nginx-config.js";
import { parseServeConfig } from "../src/serve/config.js";
import type { LeaseObject } from "../src/serve/heartbeat.js";
import type { HeartbeatWriter } from "../src/serve/kube.js";
import { type Agent, startAgent } from "../src/serve/serve.js";
import { signedQuery } from "../src/sign-url.js";
import { freePort, get, type RunningNginx, SECRET, startNginx, tempDir } from "./harness.js";

let dir: string;
let nginx: RunningNginx;
let udp: number;
const SIZE = 2 * 1024 * 1024;

beforeAll(async () => {
  dir = await tempDir("edge-serve-");
  await mkdir(join(dir, "content"), { recursive: true });
  await writeFile(join(dir, "content", "v.mp4"), randomBytes(SIZE));
  udp = await freePort();
  nginx = await startNginx(dir, join(dir, "content"), { accessLogUdpPort: udp });
});

afterAll(async () => {
  await nginx?.stop();
  await rm(dir, { recursive: true, force: true });
});

class Recorder implements HeartbeatWriter {
  leases: LeaseObject[] = [];
  nodes: { name: string; ktls: string }[] = [];
  async applyLease(l: LeaseObject) {
    this.leases.push(l);
  }
  async annotateNode(name: string, ktls: string) {
    this.nodes.push({ name, ktls });
  }
}

async function agent(
  ktls: "auto" | "required",
  probe: () => Promise<KtlsProbe>,
  rec: Recorder,
  port = udp,
): Promise<Agent> {
  const cfg = parseServeConfig({
    namespace: "edge",
    ktls,
    contentPath: join(dir, "content"),
    statusUrl: `http://127.0.0.1:${nginx.settings.statusPort}${STATUS_LOCATION}`,
    accessLogUdpPort: port,
    metricsPort: await freePort(),
    metricsAddress: "127.0.0.1",
    heartbeatSeconds: 300,
  });
  return startAgent(cfg, {
    server: "oca-1",
    nodeName: "node-1",
    writer: rec,
    probeKtls: probe,
    now: () => new Date(),
    log: pino({ level: "silent" }),
  });
}

describe("serve", () => {
  it("counts nginx's bytes and connections into /metrics and the Lease; kTLS state from this kernel", async () => {
    const rec = new Recorder();
    const a = await agent("auto", probeKtls, rec);
    try {
      const uri = "/v.mp4";
      const q = signedQuery(uri, SECRET, Math.floor(Date.now() / 1000) + 60);
      expect((await get(`${nginx.http}${uri}?${q}`)).status).toBe(200);
      expect((await get(`${nginx.http}${uri}`)).status).toBe(403);
      // nginx sends its log line after the response; poll the agent rather than sleep a fixed time.
      let metrics = "";
      const both = (m: string) => m.includes('code="2xx"} 1') && m.includes('code="4xx"} 1');
      for (let i = 0; i < 100 && !both(metrics); i++) {
        await new Promise((r) => setTimeout(r, 20));
        await a.beat();
        metrics = (await get(`${a.metricsUrl}/metrics`)).body.toString();
      }
      const sent = Number(/edgefleet_edge_sent_bytes_total (\d+)/.exec(metrics)?.[1]);
      expect(sent).toBeGreaterThan(SIZE);
      expect(metrics).toMatch(/edgefleet_edge_responses_total\{code="2xx"\} 1\n/);
      expect(metrics).toMatch(/edgefleet_edge_responses_total\{code="4xx"\} 1\n/);
      expect(metrics).toContain("edgefleet_edge_up 1");
      const kernelKtls = (await probeKtls()).ulps.includes("tls");
      expect(metrics).toContain(`edgefleet_edge_ktls_active ${kernelKtls ? 1 : 0}`);

      const lease = rec.leases.at(-1);
      expect(lease?.spec.holderIdentity).toBe("oca-1");
      const load = JSON.parse(lease?.metadata.annotations["cdn.edgefleet.dev/load"] ?? "{}");
      expect(load.diskTotalBytes).toBeGreaterThan(0);
      expect(load.ktls).toBe(kernelKtls ? "active" : "unavailable");
      expect(rec.nodes).toEqual([{ name: "node-1", ktls: kernelKtls ? "active" : "unavailable" }]);
      expect((await get(`${a.metricsUrl}/readyz`)).status).toBe(200);
    } finally {
      await a.stop();
    }
  });

  it.each([
    { name: "required without the tls module → not ready", ktls: "required", ulps: ["mptcp"], status: 503 },
    { name: "auto without the tls module → ready (userspace TLS)", ktls: "auto", ulps: ["mptcp"], status: 200 },
    { name: "required with the tls module → ready", ktls: "required", ulps: ["tls"], status: 200 },
  ] as const)("$name", async ({ ktls, ulps, status }) => {
    const a = await agent(ktls, async () => ({ ulps, tlsStat: undefined }), new Recorder(), await freePort());
    try {
      const r = await get(`${a.metricsUrl}/readyz`);
      expect(r.status).toBe(status);
    } finally {
      await a.stop();
    }
  });
});
