/**
 * The edge agent against the real API server: serve mode beside the real nginx heartbeats its Lease
 * (its kTLS state in it; its Node untouched); fill mode reads a Placement, its OCACluster, the Titles and the region's
 * Popularity, and fills a temp dir from a real origin on loopback with exactly the files assign()
 * gives the server; a fill killed with SIGKILL resumes; evict waits for promotion; after a Popularity
 * change, the files that move between servers come from the peer (a real nginx per server) that holds
 * them under the cluster's Active placement, not from the origin.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { stringify } from "yaml";
import { partialPath, scanContent } from "../../nodes/src/fill/disk.js";
import { kernelHasKtls, ktlsState, probeKtls } from "../../nodes/src/ktls.js";
import { parseServeConfig } from "../../nodes/src/serve/config.js";
import { kubeHeartbeatWriter } from "../../nodes/src/serve/kube.js";
import { startAgent } from "../../nodes/src/serve/serve.js";
import {
  edgeKeyEntries,
  freePort,
  get,
  type Origin,
  type RunningNginx,
  signedPath,
  startNginx,
  startOrigin,
  tempDir,
  writeLinkKeys,
} from "../../nodes/test/harness.js";
import {
  heartbeatLeaseName,
  heartbeatOf,
  Kinds,
  ktlsAnnotation,
  loadAnnotation,
  mustParse,
  type OCACluster,
  type Popularity,
  type Title,
} from "../../operator/src/api/index.js";
import { fileKey, regionCatalog } from "../../operator/src/catalog/catalog.js";
import { serversOf } from "../../operator/src/catalog/servers.js";
import { STATUS_LOCATION } from "../../operator/src/edge/nginx-config.js";
import { assign, planHca } from "../../operator/src/placement/index.js";
import { Kube, type KubeObject } from "../../operator/src/runtime/kube.js";
import { eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "nodes", "src", "main.ts");
const suffix = Date.now().toString(36);
const ns = `edge-${suffix}`;
const nodeName = `edge-node-${suffix}`;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

type Lease = KubeObject & { spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } };
/** A fill log line: "fill starting", or one per file (fetch-file.ts FileResult). */
type FileLine = { msg: string; path?: string; source?: string; downloaded?: number; downloadedFrom?: object };
type Run = Readonly<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;

/** The agent as its container runs it, with the test cluster's kubeconfig. */
function agent(args: readonly string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: kubeconfig() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<Run>((res) => child.on("exit", (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

let kube: Kube;
let dir: string;

beforeAll(async () => {
  await installCrds();
  await kubectlOk(["create", "namespace", ns]);
  kube = await Kube.connect(kubeconfig());
  dir = await tempDir("edge-agent-it-");
});

afterAll(async () => {
  await kubectl(["delete", "namespace", ns, "--wait=false"]);
  await kubectl(["delete", "node", nodeName, "--ignore-not-found"]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("serve mode", () => {
  let nginx: RunningNginx;
  const SIZE = 2 * 1024 * 1024;
  const serveConfig = async (accessLogUdpPort: number, ktls: "auto" | "required" = "auto") => ({
    namespace: ns,
    cluster: "edge-a",
    servers: { [nodeName]: "s01" },
    ktls,
    contentPath: join(dir, "serve", "content"),
    statusUrl: `http://127.0.0.1:${nginx.settings.statusPort}${STATUS_LOCATION}`,
    accessLogUdpPort,
    metricsPort: await freePort(),
    metricsAddress: "127.0.0.1",
    heartbeatSeconds: 1,
    leaseDurationSeconds: 10,
  });

  beforeAll(async () => {
    await mkdir(join(dir, "serve", "content"), { recursive: true });
    await writeFile(join(dir, "serve", "content", "v.mp4"), randomBytes(SIZE));
    nginx = await startNginx(join(dir, "serve"), join(dir, "serve", "content"), { accessLogUdpPort: await freePort() });
    await kubectlOk(
      ["apply", "--server-side", "--field-manager=edge-test", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: nodeName } }),
    );
  });
  afterAll(() => nginx?.stop());

  it("heartbeats its Lease (holder, advancing renewTime, load, kTLS state), leaves its Node alone, counts nginx's bytes", async () => {
    const cfg = await serveConfig(nginx.settings.accessLogUdpPort ?? 0);
    await writeFile(join(dir, "serve.yaml"), stringify(cfg));
    const probe = await probeKtls();
    const want = ktlsState("auto", probe);
    // This machine's kernel has no tls module: the state the agent reports must say so.
    if (!kernelHasKtls(probe)) expect(want).toBe("unavailable");

    const a = agent(["serve", "--config", join(dir, "serve.yaml"), "--node", nodeName]);
    try {
      const key = { namespace: ns, name: heartbeatLeaseName("edge-a", "s01") };
      const first = await eventually(() => kube.get<Lease>(Kinds.Lease, key), `Lease ${key.name}`);
      expect(first.spec.holderIdentity).toBe("s01");
      expect(first.spec.leaseDurationSeconds).toBe(10);
      // Read back the way the OCACluster controller and steering read it.
      expect(heartbeatOf(first)).toMatchObject({ cluster: "edge-a", server: "s01", leaseDurationSeconds: 10 });
      expect(heartbeatOf(first)?.load?.ktls).toBe(want);
      // The kids its nginx holds keys for, asked of nginx itself: steering signs with one of them only.
      expect(heartbeatOf(first)?.linkKids).toEqual(["k1"]);
      expect(first.metadata.annotations?.[ktlsAnnotation]).toBe(want);
      const load = JSON.parse(first.metadata.annotations?.[loadAnnotation] ?? "{}");
      expect(Object.keys(load).sort()).toEqual([
        "bytesPerSec",
        "connections",
        "diskTotalBytes",
        "diskUsedBytes",
        "ktls",
      ]);
      expect(load.ktls).toBe(want);
      expect(load.diskTotalBytes).toBeGreaterThan(0);

      await eventually(async () => {
        const l = await kube.get<Lease>(Kinds.Lease, key);
        return Date.parse(l?.spec.renewTime ?? "") > Date.parse(first.spec.renewTime ?? "") ? l : undefined;
      }, "the Lease renewed");

      // The kTLS state travels in the Lease only: the agent has no RBAC on Nodes.
      const node = await kube.get(Kinds.Node, { name: nodeName });
      expect(node?.metadata.annotations?.[ktlsAnnotation]).toBeUndefined();
      const managers = ((node?.metadata ?? {}) as { managedFields?: { manager: string }[] }).managedFields ?? [];
      expect(managers.map((m) => m.manager)).not.toContain("edgefleet-agent");

      const signed = signedPath("/v.mp4", new Date(Date.now() + 60_000));
      expect((await get(`${nginx.http}${signed}`)).status).toBe(200);
      const metricsUrl = `http://127.0.0.1:${cfg.metricsPort}/metrics`;
      const sent = await eventually(async () => {
        const m = (await get(metricsUrl)).body.toString();
        const n = Number(/edgefleet_edge_sent_bytes_total\{[^}]*\} (\d+)/.exec(m)?.[1]);
        return n > SIZE ? n : undefined;
      }, "nginx's bytes in /metrics");
      expect(sent).toBeGreaterThan(SIZE);
      expect((await get(`http://127.0.0.1:${cfg.metricsPort}/readyz`)).status).toBe(200);
    } finally {
      a.child.kill("SIGTERM");
    }
    const r = await a.done;
    expect(r.code, r.stderr).toBe(0);
  });

  it.each([
    { name: "required without the tls module → not ready", ktls: "required", ulps: ["mptcp"], status: 503 },
    { name: "auto without the tls module → ready (userspace TLS)", ktls: "auto", ulps: ["mptcp"], status: 200 },
    { name: "required with the tls module → ready", ktls: "required", ulps: ["tls"], status: 200 },
  ] as const)("$name", async ({ ktls, ulps, status }) => {
    const cfg = parseServeConfig({
      ...(await serveConfig(await freePort(), ktls)),
      heartbeatSeconds: 100,
      leaseDurationSeconds: 300,
    });
    const a = await startAgent(cfg, {
      server: `r-${ktls}-${ulps[0]}`,
      writer: kubeHeartbeatWriter(kube),
      probeKtls: async () => ({ ulps, tlsStat: undefined }),
      now: () => new Date(),
      log: pino({ level: "silent" }),
    });
    try {
      expect((await get(`${a.metricsUrl}/readyz`)).status).toBe(status);
      const name = heartbeatLeaseName("edge-a", `r-${ktls}-${ulps[0]}`);
      const lease = await kube.get<Lease>(Kinds.Lease, { namespace: ns, name });
      expect(lease?.metadata.annotations?.[ktlsAnnotation]).toBe(ulps[0] === "tls" ? "active" : "unavailable");
    } finally {
      await a.stop();
    }
  });
});

describe("fill mode", () => {
  const region = "test-r";
  const blobs = new Map<string, Buffer>();
  let origin: Origin;
  let titles: Title[];
  let popularity: Popularity;
  const linkKeys = () => join(dir, "link-keys");
  let edgeA: OCACluster;
  let placementA: Awaited<ReturnType<typeof placeAndApply>>;

  /** A title: video rungs on a concave (bitrate, VMAF) curve, so all are on the hull, plus one audio file. */
  function title(id: string, videoBytes: readonly number[]): Title {
    const file = (path: string, n: number) => {
      const b = randomBytes(n);
      blobs.set(path, b);
      return { path, bytes: n, sha256: sha(b) };
    };
    const files = [
      ...videoBytes.map((n, i) => ({
        ...file(`${id}/video/h264/r${i}.mp4`, n),
        kind: "video",
        codec: "h264",
        resolution: "1280x720",
        bitrateKbps: 500 * 2 ** i,
        vmaf: 50 + 40 * (1 - 2 ** -i),
      })),
      { ...file(`${id}/audio/aac/en.mp4`, 30_000), kind: "audio", codec: "aac", bitrateKbps: 128 },
    ];
    return mustParse("Title", {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Title",
      metadata: { name: id, namespace: ns },
      spec: { id, regions: [region], durationSeconds: 600, files },
    }) as Title;
  }

  function cluster(name: string, servers: number, bandwidthCap: string, httpPort: number, namespace = ns): OCACluster {
    return mustParse("OCACluster", {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "OCACluster",
      metadata: { name, namespace },
      spec: {
        region,
        site: { type: "embedded", isp: "Loopback Telecom", asn: 64500 },
        location: { lat: 52.37, lon: 4.9 },
        serverClasses: [{ name: "storage", storage: "1Gi", throughput: "10Gbps" }],
        // Nothing listens at the peers' addresses: every file falls back to the origin.
        servers: Array.from({ length: servers }, (_, i) => ({
          name: `s0${i + 1}`,
          node: `${name}-s0${i + 1}`,
          class: "storage",
          ipv4: `127.0.0.${11 + i}`,
        })),
        prefixes: [],
        fill: {
          window: { start: "02:00", end: "06:00", timeZone: "UTC" },
          bandwidthCap,
          sources: { origin: origin.url },
        },
        edge: { image: "edgefleet-edge:test", httpPort, httpsPort: httpPort + 1, tlsSecret: "edge-tls" },
      },
    }) as OCACluster;
  }

  /** What the operator does: HCA over the region's catalog, written as a Placement in the cluster's namespace. */
  async function placeAndApply(c: OCACluster, pop: Popularity = popularity, ts: readonly Title[] = titles) {
    const namespace = c.metadata.namespace ?? ns;
    const catalog = regionCatalog(region, ts, pop);
    const servers = serversOf(c.spec);
    const { plan } = planHca({
      cluster: c.metadata.name,
      catalogGeneration: catalog.generation,
      servers,
      catalog: catalog.files,
    });
    const name = `${c.metadata.name}-${catalog.generation}`
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, "-")
      .slice(0, 63);
    await apply({
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Placement",
      metadata: { name, namespace },
      spec: {
        cluster: plan.cluster,
        catalogGeneration: plan.catalogGeneration,
        cutoff: plan.cutoff,
        servers: plan.servers,
      },
    });
    const assignment = assign(plan, catalog.files, servers);
    const pathOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [fileKey(t.spec.id, f.path), f.path])));
    const filesOf = (server: string) => assignment.filesOf(server).map((k) => pathOf.get(k) ?? `?${k}`);
    return { ref: `${namespace}/${name}`, name, filesOf, stored: assignment.stored, plan, catalog };
  }

  /** A namespace of this test's own holding the Titles and the Popularity; `inNs` moves an object into it. */
  async function ownNamespace(suffix: string) {
    const name = `${ns}-${suffix}`;
    await kubectlOk(["create", "namespace", name]);
    onTestFinished(() => kubectl(["delete", "namespace", name, "--wait=false"]).then(() => undefined));
    const inNs = <T extends { metadata: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, namespace: name } });
    for (const t of titles) await apply(inNs(t));
    await apply(inNs(popularity));
    return { name, inNs };
  }

  /** `fill` of one server into `content`, signing peer fetches with the cluster's link keys. */
  const fill = (ref: string, server: string, content: string) =>
    agent(["fill", "--placement", ref, "--server", server, "--content", content, "--link-keys", linkKeys()]).done;

  const apply = (obj: unknown) =>
    kubectlOk(["apply", "--server-side", "--field-manager=edge-test", "-f", "-"], JSON.stringify(obj));

  /** The 6 MiB video: long enough at 16 Mbps to catch a fill mid-file. */
  function bigFile() {
    const big = titles.find((t) => t.spec.id === "big")?.spec.files.find((f) => f.kind === "video");
    if (!big) throw new Error("no big file");
    return big;
  }

  /** Files on disk, each checked against the origin's bytes by sha256. */
  async function onDisk(content: string): Promise<string[]> {
    const paths = [...(await scanContent(content)).keys()].sort();
    for (const p of paths) expect(sha(await readFile(join(content, p))), p).toBe(sha(blobs.get(p) ?? Buffer.alloc(0)));
    return paths;
  }

  beforeAll(async () => {
    titles = [
      title("alpha", [60_000, 120_000, 240_000]),
      title("bravo", [50_000, 100_000]),
      title("charlie", [70_000, 140_000, 280_000]),
      title("delta", [40_000, 80_000]),
      title("echo", [90_000]),
      title("big", [6 * 1024 * 1024]),
    ];
    const originRoot = join(dir, "origin");
    for (const [p, b] of blobs) {
      await mkdir(dirname(join(originRoot, p)), { recursive: true });
      await writeFile(join(originRoot, p), b);
    }
    origin = await startOrigin(originRoot);
    await writeLinkKeys(linkKeys(), edgeKeyEntries());
    popularity = mustParse("Popularity", {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Popularity",
      metadata: { name: region, namespace: ns },
      spec: {
        region,
        catalogGeneration: "day-1",
        demand: { alpha: 9000, bravo: 5000, charlie: 3000, delta: 700, big: 10 },
      },
    }) as Popularity;
    for (const t of titles) await apply(t);
    await apply(popularity);
    edgeA = cluster("edge-a", 3, "10Gbps", await freePort());
    await apply(edgeA);
    placementA = await placeAndApply(edgeA);
  });
  afterAll(() => origin?.stop());

  it("each server fills exactly the files assign() gives it, from the origin, byte-exact", async () => {
    const [c, p] = [edgeA, placementA];
    const union = new Set<string>();
    for (const s of c.spec.servers) {
      const content = join(dir, `fill-${s.name}`);
      const r = await fill(p.ref, s.name, content);
      expect(r.code, r.stderr).toBe(0);
      const want = p.filesOf(s.name).sort();
      expect(want.length).toBeGreaterThan(0);
      const report = JSON.parse(r.stdout);
      expect(report.server).toBe(s.name);
      expect(report.filled.files).toBe(want.length);
      expect(report.failed.files).toBe(0);
      expect(await onDisk(content)).toEqual(want);
      for (const f of want) union.add(f);
    }
    expect(union.size).toBe(p.stored);
  });

  it("a fill killed with SIGKILL mid-file resumes with a Range request and publishes the exact file", async () => {
    const c = cluster("edge-slow", 1, "16Mbps", await freePort());
    await apply(c);
    const p = await placeAndApply(c);
    const big = bigFile();
    expect(p.filesOf("s01")).toContain(big.path);
    const content = join(dir, "fill-slow");
    const part = partialPath(content, big);
    const args = ["fill", "--placement", p.ref, "--server", "s01", "--content", content];

    const requestsBefore = origin.requests.length;
    const killed = agent(args);
    await eventually(
      async () => (((await stat(part).catch(() => undefined))?.size ?? 0) >= 1024 * 1024 ? true : undefined),
      "1 MiB of the big file",
    );
    killed.child.kill("SIGKILL");
    expect((await killed.done).signal).toBe("SIGKILL");
    const cut = (await stat(part)).size;
    expect(cut).toBeLessThan(big.bytes);
    await expect(stat(join(content, big.path))).rejects.toThrow(/ENOENT/);

    await kubectlOk([
      "patch",
      "ocacluster",
      "edge-slow",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"spec":{"fill":{"bandwidthCap":"10Gbps"}}}',
    ]);
    const r = await agent(args).done;
    expect(r.code, r.stderr).toBe(0);
    const bigRequests = origin.requests.slice(requestsBefore).filter((q) => q.path === `/${big.path}`);
    expect(bigRequests.map((q) => q.range)).toEqual(["", `bytes=${cut}-`]);
    expect(await onDisk(content)).toEqual(p.filesOf("s01").sort());
  });

  it("evict refuses before promotion; once the Placement is Active it removes only what it does not name", async () => {
    const c = cluster("edge-ev", 2, "10Gbps", await freePort());
    await apply(c);
    const p = await placeAndApply(c);
    const content = join(dir, "fill-ev");
    const filled = await fill(p.ref, "s02", content);
    expect(filled.code, filled.stderr).toBe(0);
    const stale = "old-title/video/h264/r0.mp4";
    await mkdir(dirname(join(content, stale)), { recursive: true });
    await writeFile(join(content, stale), "from a superseded placement");
    const evict = ["evict", "--placement", p.ref, "--server", "s02", "--content", content];

    const early = await agent(evict).done;
    expect(early.code).toBe(2);
    expect(early.stderr).toContain("status.phase is unset, not Active");
    expect((await scanContent(content)).has(stale)).toBe(true);

    await kube.apply(
      Kinds.Placement,
      {
        apiVersion: "cdn.edgefleet.dev/v1alpha1",
        kind: "Placement",
        metadata: { name: p.name, namespace: ns },
        status: { phase: "Active" },
      },
      "edge-test",
      { subresource: "status" },
    );
    const r = await agent(evict).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).evicted).toEqual({ files: 1, bytes: "from a superseded placement".length });
    expect(await onDisk(content)).toEqual(p.filesOf("s02").sort());
  });

  it("fill and evict on one disk: the evict finds it locked by the fill (exit 3, the fill named), the fill's partial download survives and the fill completes", async () => {
    const c = cluster("edge-race", 1, "16Mbps", await freePort());
    await apply(c);
    const p = await placeAndApply(c);
    const big = bigFile();
    const content = join(dir, "fill-race");
    const part = partialPath(content, big);
    const filling = agent(["fill", "--placement", p.ref, "--server", "s01", "--content", content]);
    await eventually(
      async () => (((await stat(part).catch(() => undefined))?.size ?? 0) > 0 ? true : undefined),
      "the fill's partial download",
    );
    // Paused mid-file, the fill still holds the directory however long the evict takes to start.
    filling.child.kill("SIGSTOP");
    await setStatus(ns, "Placement", p.name, { phase: "Active" });
    const report = join(dir, "race-report.json");
    const evict = ["evict", "--placement", p.ref, "--server", "s01", "--content", content];
    const busy = await agent([...evict, "--lock-wait-seconds", "0", "--report-file", report]).done;
    const cut = (await stat(part)).size; // the evict never touched it
    filling.child.kill("SIGCONT");
    expect(busy.code, busy.stderr).toBe(3);
    expect(busy.stderr).toContain(`content directory ${content} is locked by fill of ${p.ref} for s01`);
    expect(JSON.parse(await readFile(report, "utf8"))).toMatchObject({ mode: "evict", server: "s01" });
    expect(cut).toBeGreaterThan(0);

    const filled = await filling.done;
    expect(filled.code, filled.stderr).toBe(0);
    expect(await onDisk(content)).toEqual(p.filesOf("s01").sort());
    const after = await agent(evict).done;
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).evicted).toEqual({ files: 0, bytes: 0 });
  });

  it.each([
    {
      name: "evict refuses a directory the agent never filled (no .edgefleet/content-root): exit 2, the path named, nothing removed",
      mode: "evict",
      want: "has no .edgefleet/content-root",
    },
    {
      name: "fill refuses a directory holding files of its own and no marker: exit 2, the path named, nothing written",
      mode: "fill",
      want: "holds files (host-data.db, …) but no .edgefleet/content-root",
    },
  ])("$name", async ({ mode, want }) => {
    const host = join(dir, `host-dir-${mode}`);
    await mkdir(host, { recursive: true });
    await writeFile(join(host, "host-data.db"), "someone else's data");
    const report = join(dir, `refused-${mode}.json`);
    const r = await agent([
      mode,
      "--placement",
      placementA.ref,
      "--server",
      "s01",
      "--content",
      host,
      "--report-file",
      report,
    ]).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${host} ${want}`);
    expect(JSON.parse(await readFile(report, "utf8"))).toMatchObject({
      mode,
      server: "s01",
      error: expect.stringContaining(want),
    });
    expect(await readFile(join(host, "host-data.db"), "utf8")).toBe("someone else's data");
    await expect(stat(join(host, ".edgefleet"))).rejects.toThrow(/ENOENT/);
  });

  it("after a Popularity change, a file that moves from server A to B is filled from A, its holder under the Active placement", async () => {
    // A namespace of its own: the Popularity changes here, and the other tests' Placements must stay current.
    const { name: ns2, inNs: inNs2 } = await ownNamespace("mv");
    const c = cluster("edge-mv", 2, "10Gbps", await freePort(), ns2);
    await apply(c);
    const content = (server: string) => join(dir, `mv-${server}`);
    const day1 = await placeAndApply(c);
    for (const { name } of c.spec.servers) {
      const r = await fill(day1.ref, name, content(name));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("no Active placement");
    }
    await promote(ns2, c.metadata.name, day1.name);
    // Each server's nginx on its own address and the cluster's httpPort, as the edge DaemonSet runs it.
    const peers = await Promise.all(
      c.spec.servers.map((s) =>
        startNginx(join(dir, `mv-nginx-${s.name}`), content(s.name), {
          httpPort: c.spec.edge.httpPort,
          listen: [s.ipv4],
        }),
      ),
    );
    onTestFinished(() => Promise.all(peers.map((n) => n.stop())).then(() => undefined));

    // Two titles trade places: a new catalog generation, and a new ring that moves some files.
    const demand = { ...popularity.spec.demand, charlie: 700, delta: 3000 };
    const day2Popularity = inNs2({ ...popularity, spec: { ...popularity.spec, catalogGeneration: "day-2", demand } });
    await apply(day2Popularity);
    const day2 = await placeAndApply(c, day2Popularity);
    expect(day2.name).not.toBe(day1.name);

    // Files a server lacks that another holds on disk, where the Active ring over the day-2 catalog says so.
    const keyOf = new Map(titles.flatMap((t) => t.spec.files.map((f) => [f.path, fileKey(t.spec.id, f.path)])));
    const now = assign(day1.plan, day2.catalog.files, serversOf(c.spec));
    const disks = new Map<string, Map<string, number>>();
    for (const { name } of c.spec.servers) disks.set(name, new Map(await scanContent(content(name))));
    const moved = c.spec.servers.flatMap(({ name: to }) =>
      day2.filesOf(to).flatMap((path) => {
        if (disks.get(to)?.has(path)) return [];
        const from = now.holdersOf(keyOf.get(path) ?? "").filter((h) => h !== to && disks.get(h)?.has(path));
        return from.length > 0 ? [{ to, path, from }] : [];
      }),
    );
    expect(moved.length).toBeGreaterThan(0);

    const originBefore = origin.requests.length;
    const filled = new Map<string, FileLine>();
    const bySource = { origin: 0, peers: 0 };
    for (const { name } of c.spec.servers) {
      const r = await fill(day2.ref, name, content(name));
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.failed.files).toBe(0);
      bySource.origin += report.downloadedFrom.origin;
      bySource.peers += report.downloadedFrom.peers;
      const logged = r.stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as FileLine & { peersFirst?: string });
      expect(logged.find((l) => l.msg === "fill starting")?.peersFirst).toBe(day1.name);
      for (const l of logged) if (l.msg === "file filled") filled.set(`${name} ${l.path}`, l);
      // Every file of the server under day 2 is on its disk, byte-exact (day 1's stay until evict).
      expect(await onDisk(content(name))).toEqual(expect.arrayContaining(day2.filesOf(name)));
    }
    expect(bySource.peers).toBeGreaterThan(0);
    for (const { to, path, from } of moved) {
      const size = blobs.get(path)?.length;
      expect(filled.get(`${to} ${path}`), `${path} onto ${to}`).toMatchObject({
        source: `peer ${from[0]}`,
        downloaded: size,
        downloadedFrom: { peers: size, origin: 0 },
      });
    }
    const askedOrigin = new Set(origin.requests.slice(originBefore).map((q) => q.path.slice(1)));
    expect(moved.filter((m) => askedOrigin.has(m.path))).toEqual([]);
  });

  it("a Title created later that names another's file path is left out, and the region's fill goes on without it", async () => {
    const { name: ns3, inNs: inNs3 } = await ownNamespace("dup");
    // Created after alpha, naming alpha's first video file as its own (alpha's bytes, alpha's checksum).
    const alphaFile = titles.find((t) => t.spec.id === "alpha")?.spec.files[0];
    if (!alphaFile) throw new Error("no alpha file");
    const copycat = title("copycat", [20_000]);
    await apply(inNs3({ ...copycat, spec: { ...copycat.spec, files: [...copycat.spec.files, alphaFile] } }));
    const c = cluster("edge-dup", 1, "10Gbps", await freePort(), ns3);
    await apply(c);
    // The API server's Titles, with their creation times, as the operator and the agent read them.
    const listed = JSON.parse(await kubectlOk(["get", "titles", "-n", ns3, "-o", "json"])) as { items: unknown[] };
    const placed = await placeAndApply(
      c,
      popularity,
      listed.items.map((o) => mustParse("Title", o)),
    );
    expect(placed.catalog.files.some((f) => f.key.startsWith("copycat/"))).toBe(false);
    expect(placed.catalog.files.some((f) => f.key === fileKey("alpha", alphaFile.path))).toBe(true);
    const content = join(dir, "fill-dup");
    const r = await fill(placed.ref, "s01", content);
    expect(r.code, r.stderr).toBe(0);
    const paths = await onDisk(content);
    expect(paths).toContain(alphaFile.path);
    expect(paths.filter((p) => p.startsWith("copycat/"))).toEqual([]);
  });

  /** Writes status fields of one of our objects, as the operator would. */
  async function setStatus(namespace: string, kind: "Placement" | "OCACluster", name: string, status: object) {
    const obj = { apiVersion: "cdn.edgefleet.dev/v1alpha1", kind, metadata: { name, namespace }, status };
    await kube.apply(Kinds[kind], obj, "edge-test", { subresource: "status" });
  }

  /** What the operator does once a Placement's fill is done: the Placement Active, named by its cluster's status. */
  async function promote(namespace: string, clusterName: string, placement: string) {
    await setStatus(namespace, "Placement", placement, { phase: "Active" });
    await setStatus(namespace, "OCACluster", clusterName, { activePlacement: placement });
  }

  it.each([
    {
      name: "a server the Placement does not have",
      server: "s09",
      ref: () => placementA.ref,
      want: '--server: "s09" is not among',
    },
    {
      name: "a Placement that does not exist",
      server: "s01",
      ref: () => `${ns}/nope`,
      want: `Placement ${ns}/nope not found`,
    },
    { name: "a malformed --placement", server: "s01", ref: () => "a/b/c", want: "--placement:" },
  ])("exits 2 naming the problem: $name", async ({ server, ref, want }) => {
    const r = await agent(["fill", "--placement", ref(), "--server", server, "--content", join(dir, "x")]).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(want);
  });
});
