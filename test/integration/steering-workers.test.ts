/**
 * `edgefleet steering --workers=2` on the real control plane: the two worker processes share the port,
 * and each watches the heartbeat Leases itself, so a server's heartbeat shows in the answers of both
 * workers, and a server whose Lease goes away drops out of the answers of both. The primary's /readyz
 * waits for both workers and its /metrics sums theirs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeatLease, heartbeatLeaseName, Kinds, mustParse } from "../../operator/src/api/index.js";
import { sampleFleet } from "../../operator/src/api/testdata/samples.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { WORKER_HEADER } from "../../operator/src/steering/http.js";
import { eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";

const ns = `stw-${Date.now().toString(36)}`;
const fleet = sampleFleet(new Date());
const clusters = fleet.clusters.map((c) => ({ ...c, metadata: { ...c.metadata, namespace: ns } }));
const ams = mustParse(
  "OCACluster",
  clusters.find((c) => c.metadata.name === "ams-polder-1"),
);
const clientInAms = (ams.spec.prefixes.find((p) => p.cidr.includes("."))?.cidr ?? "").replace(/\.0\/\d+$/, ".77");
const mainTs = fileURLToPath(new URL("../../operator/src/cli/main.ts", import.meta.url));

type Answer = Readonly<{ worker: string | undefined; status: number; servers: string[] }>;
/** Every answer the tests got, to compare with what /metrics sums. */
const seen: Answer[] = [];

/** One request on a connection of its own: the primary hands each new connection to the next worker. */
const ask = (port: number): Promise<Answer> =>
  new Promise((resolve, reject) => {
    get({ port, host: "127.0.0.1", path: `/v1/steering?ip=${clientInAms}`, agent: false }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => {
        const body = JSON.parse(text) as { clusters?: { name: string; servers: { name: string }[] }[] };
        const top = body.clusters?.find((c) => c.name === ams.metadata.name);
        const a = {
          worker: res.headers[WORKER_HEADER] as string | undefined,
          status: res.statusCode ?? 0,
          servers: (top?.servers ?? []).map((s) => s.name).sort(),
        };
        seen.push(a);
        resolve(a);
      });
    }).on("error", reject);
  });

/** Answers from fresh connections until both workers answered `rounds` times each. */
async function fromBothWorkers(port: number, rounds = 3): Promise<Answer[]> {
  const out: Answer[] = [];
  const count = (w: string) => out.filter((a) => a.worker === w).length;
  for (let i = 0; i < 40 && (count("1") < rounds || count("2") < rounds); i++) out.push(await ask(port));
  return out;
}

describe("steering with two workers on the real control plane", () => {
  let kube: Kube;
  let dir = "";
  let child: ChildProcess | undefined;
  let port = 0;
  let healthPort = 0;
  const servers = ams.spec.servers.map((s) => s.name).sort();

  const beat = (server: string) =>
    kube.apply(
      Kinds.Lease,
      heartbeatLease({
        namespace: ns,
        cluster: ams.metadata.name,
        server,
        load: { connections: 1, bytesPerSec: 1e6, diskUsedBytes: 1, diskTotalBytes: 2, ktls: "unavailable" },
        now: new Date(),
        leaseDurationSeconds: 300,
      }),
      "edgefleet-test",
    );

  beforeAll(async () => {
    kube = await Kube.connect(kubeconfig());
    await installCrds();
    await kubectlOk(["create", "namespace", ns]);
    await kubectlOk(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: clusters }),
    );
    dir = await mkdtemp(join(tmpdir(), "edgefleet-workers-"));
    await mkdir(join(dir, "keys"));
    await writeFile(join(dir, "keys", "k1.key"), "0123456789abcdef0123456789abcdef\n");
    await writeFile(join(dir, "keys", "primary"), "k1\n");
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        mainTs,
        "steering",
        "--workers=2",
        `--kubeconfig=${kubeconfig()}`,
        `--watch-namespace=${ns}`,
        `--url-signing-keys-dir=${join(dir, "keys")}`,
        "--host=127.0.0.1",
        "--port=0",
        "--health-port=0",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    for await (const line of createInterface({ input: child.stdout ?? process.stdin })) {
      if (!line.startsWith("{")) continue;
      const m = JSON.parse(line) as { msg?: string; health?: { port: number }; address?: { port: number } };
      if (m.msg === "steering primary started") healthPort = m.health?.port ?? 0;
      if (m.msg === "steering listening") port = m.address?.port ?? 0;
      if (port !== 0 && healthPort !== 0) break;
    }
    child.stdout?.resume();
  }, 120_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("is ready once both workers are, and answers from both", async () => {
    await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      return r.status === 200 ? true : undefined;
    }, "the primary's /readyz");
    const answers = await fromBothWorkers(port);
    expect(new Set(answers.map((a) => a.worker))).toEqual(new Set(["1", "2"]));
  });

  /** Until every answer of both workers is a 200 naming exactly `want` as the cluster's live servers. */
  const bothName = async (want: readonly string[], what: string) => {
    const answers = await eventually(async () => {
      const a = await fromBothWorkers(port);
      return a.every((x) => x.status === 200 && x.servers.join() === want.join()) ? a : undefined;
    }, what);
    expect(new Set(answers.map((a) => a.worker))).toEqual(new Set(["1", "2"]));
  };

  it("shows every heartbeat in the answers of both workers", async () => {
    await Promise.all(servers.map(beat));
    await bothName(servers, "both workers naming every server of the cluster");
  });

  it("drops a server whose heartbeat Lease is gone from the answers of both workers", async () => {
    const [gone, ...rest] = servers;
    await kubectlOk(["delete", "lease", "-n", ns, heartbeatLeaseName(ams.metadata.name, gone ?? "")]);
    await bothName(rest, "both workers leaving the server out");
  });

  it("sums the workers' metrics on the primary's /metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const m = /^edgefleet_steering_requests_total\{route="steering",code="200"\} (\d+)/m.exec(text);
    const ok = seen.filter((a) => a.status === 200);
    // More than either worker served alone: the primary sums both.
    expect(Math.min(...["1", "2"].map((w) => ok.filter((a) => a.worker === w).length))).toBeGreaterThan(0);
    expect(Number(m?.[1] ?? 0)).toBe(ok.length);
  });
});
