/**
 * The demo, on the local control plane (or KUBECONFIG's cluster with EDGEFLEET_USE_KUBECONFIG=1):
 * installs the CRDs and the sample fleet, runs the real operator and steering processes, and shows a
 * fleet being planned with HCA, filled by Jobs and steered.
 *
 * kwok nodes run no containers, so two things are staged and said so: each site's fill window is
 * opened now (the samples' windows are at night in their own time zones), and the edge servers'
 * heartbeat Leases are written here, as their agents would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heartbeatLease, Kinds, mustParse } from "../operator/src/api/index.js";
import { sampleFleet } from "../operator/src/api/testdata/samples.js";
import { Kube } from "../operator/src/runtime/kube.js";
import { clusterUp, ensureBinaries } from "./local-cluster.js";

const ns = "edgefleet-demo";
const say = (s: string) => console.log(`\n== ${s}`);

async function main() {
  const kubeconfig =
    process.env.EDGEFLEET_USE_KUBECONFIG === "1" && process.env.KUBECONFIG
      ? process.env.KUBECONFIG
      : (await clusterUp()).kubeconfig;
  const { kubectl } = await ensureBinaries(["kubectl"]);
  const k = (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(kubectl, ["--kubeconfig", kubeconfig, ...args]);
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => {
        out += d;
      });
      p.stderr.on("data", (d) => {
        err += d;
      });
      p.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")}: ${err.trim()}`)),
      );
      p.stdin.end(input ?? "");
    });
  const show = async (args: string[], input?: string) => console.log((await k(args, input)).trimEnd());

  say("CRDs");
  const crds = readdirSync("crds")
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => ["-f", `crds/${f}`]);
  await show(["apply", "--server-side", ...crds]);
  await k(["wait", "--for=condition=Established", "--timeout=60s", ...crds]);

  say(`the sample fleet, in namespace ${ns} (fill windows opened now for the demo)`);
  const fleet = sampleFleet(new Date());
  await k(["create", "namespace", ns]).catch(() => "exists");
  await k(["create", "serviceaccount", "edgefleet-agent", "-n", ns]).catch(() => "exists");
  const parsed = fleet.clusters.map((c) => mustParse("OCACluster", c));
  const nodes = parsed.flatMap((c) =>
    c.spec.servers.map((s) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: s.node, labels: { "cdn.edgefleet.dev/cluster": c.metadata.name } },
    })),
  );
  await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }));
  const items = [...fleet.clusters, ...fleet.titles, ...fleet.popularities];
  await show(
    ["apply", "--server-side", "-n", ns, "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  );

  say("starting the operator and the steering service (logs in a temp dir)");
  const logs = mkdtempSync(join(tmpdir(), "edgefleet-demo-"));
  // The master URL-signing keys, as the chart mounts their Secret: one kid, primary.
  const keysDir = join(logs, "url-signing");
  mkdirSync(keysDir);
  writeFileSync(join(keysDir, "k1.key"), randomBytes(32).toString("base64"));
  writeFileSync(join(keysDir, "primary"), "k1");
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const start = (name: string, args: string[]): ChildProcess => {
    const p = spawn(process.execPath, ["--import", "tsx", "operator/src/cli/main.ts", ...args], { env });
    const file = join(logs, `${name}.log`);
    p.stdout?.on("data", (d) => writeFileSync(file, d, { flag: "a" }));
    p.stderr?.on("data", (d) => writeFileSync(file, d, { flag: "a" }));
    return p;
  };
  const procs = [
    start("operator", [
      "operator",
      `--watch-namespace=${ns}`,
      `--lease-namespace=${ns}`,
      "--health-port=18081",
      `--url-signing-keys-dir=${keysDir}`,
    ]),
    start("steering", [
      "steering",
      `--watch-namespace=${ns}`,
      "--port=18080",
      "--health-port=18082",
      "--host=127.0.0.1",
      `--url-signing-keys-dir=${keysDir}`,
      "--trusted-proxy=127.0.0.1/32",
    ]),
  ];
  console.log(`logs: ${logs}`);
  try {
    say("heartbeats from every edge server (as their agents would send them)");
    const kube = await Kube.connect(kubeconfig);
    for (const c of parsed) {
      for (const s of c.spec.servers) {
        const load = {
          connections: 100,
          bytesPerSec: 1e9,
          diskUsedBytes: 0,
          diskTotalBytes: 1,
          ktls: "unavailable" as const,
        };
        await kube.apply(
          Kinds.Lease,
          heartbeatLease({
            namespace: ns,
            cluster: c.metadata.name,
            server: s.name,
            load,
            now: new Date(),
            leaseDurationSeconds: 600,
          }),
          "edgefleet-demo",
        );
      }
    }

    say("waiting for HCA placements to be filled by Jobs and made Active");
    const deadline = Date.now() + 180_000;
    for (;;) {
      const pl = JSON.parse(await k(["get", "placements", "-n", ns, "-o", "json"])) as {
        items: { status?: { phase?: string } }[];
      };
      if (pl.items.filter((p) => p.status?.phase === "Active").length >= parsed.length) break;
      if (Date.now() > deadline) throw new Error(`placements not active after 180 s; see ${logs}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await show(["get", "ocaclusters", "-n", ns, "-o", "wide"]);
    await show(["get", "placements", "-n", ns]);
    await show(["get", "jobs", "-n", ns]);

    say("steering: a client inside ams-polder-1's prefixes");
    const ams = parsed.find((c) => c.metadata.name === "ams-polder-1");
    const cidr = ams?.spec.prefixes.find((p) => p.cidr.includes("."))?.cidr ?? "";
    const client = cidr.replace(/\.0\/\d+$/, ".77");
    const get = async (path: string) => {
      for (let i = 0; ; i++) {
        const r = await fetch(`http://127.0.0.1:18080${path}`, { headers: { "x-forwarded-for": client } }).catch(
          () => undefined,
        );
        if (r && (r.status !== 503 || i > 30)) return { status: r.status, body: await r.json() };
        await new Promise((res) => setTimeout(res, 500));
      }
    };
    console.log(`GET /v1/steering?ip=${client}`);
    console.log(JSON.stringify((await get(`/v1/steering?ip=${client}`)).body, null, 2));
    const title = fleet.titles[0]?.metadata.name;
    const m = await get(`/v1/playback/${title}`);
    console.log(`GET /v1/playback/${title} → ${m.status}; first rungs:`);
    const ladder =
      (m.body as { ladder?: { kind: string; codec: string; rungs: { path: string; urls: string[] }[] }[] }).ladder ??
      [];
    for (const e of ladder.slice(0, 2))
      for (const r of e.rungs.slice(0, 2))
        console.log(`  ${e.kind}/${e.codec} ${r.path}\n    ${r.urls.join("\n    ")}`);
    console.log(`\nKUBECONFIG=${kubeconfig}\nstop the cluster with: npm run cluster:down`);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `demo failed: ${err.message}` : err);
  process.exitCode = 1;
});
