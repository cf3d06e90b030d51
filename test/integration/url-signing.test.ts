/**
 * A key rotation under a running playback, end to end on the real control plane: the operator derives
 * the cluster's link-key Secret from the master keys (read from a directory laid out as the kubelet
 * mounts a Secret, re-read as it changes); a stand-in for the kubelet copies that Secret into the
 * directory the real nginx (njs verifier) reads; the real agent reports the kids nginx holds in its
 * heartbeat Lease; steering signs manifests from the same master keys. A player keeps fetching chunks
 * with the URLs of its manifests, old and new, while the masters go k1 → {k1, k2} with k2 primary at
 * once (steering must wait for the edge) → k2 alone once every k1 link has expired: no URL within its
 * validity is ever refused, and a k1 link signed after the removal is.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeHeartbeatWriter } from "../../nodes/src/serve/kube.js";
import { startAgent } from "../../nodes/src/serve/serve.js";
import { freePort, get, type RunningNginx, startNginx, tempDir, writeLinkKeys } from "../../nodes/test/harness.js";
import { heartbeatLeaseName, heartbeatOf, Kinds, type Lease } from "../../operator/src/api/index.js";
import { STATUS_LOCATION } from "../../operator/src/edge/nginx-config.js";
import { startOperator } from "../../operator/src/operator.js";
import { watchKeyDir } from "../../operator/src/runtime/key-dir.js";
import { Kube, type KubeObject } from "../../operator/src/runtime/kube.js";
import { parseMasterKeys } from "../../operator/src/steering/link-keys.js";
import { startSteering } from "../../operator/src/steering/process.js";
import { deriveLinkKey, signUrl } from "../../operator/src/steering/sign-url.js";
import { eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";
import { operatorOptions, steeringOptions } from "./processes.js";

const suffix = Date.now().toString(36);
const ns = `sign-${suffix}`;
/**
 * Two servers, each with its own agent, in front of the one nginx: steering signs with a kid only once
 * every live server reports holding it. (One server alone does not plan: HCA gives it a trafficShare
 * above 1 for this three-file catalog, which the Placement's schema refuses.)
 */
const servers = [
  { name: "s01", node: `sign-node-${suffix}-1` },
  { name: "s02", node: `sign-node-${suffix}-2` },
] as const;
const cluster = "rot-1";
const region = "rot-r";
const M1 = randomBytes(32).toString("base64");
const M2 = randomBytes(32).toString("base64");
const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

type Fetch = Readonly<{ at: number; kid: string; exp: number; status: number; old: boolean }>;
type Manifest = { ladder: { rungs: { path: string; urls: string[] }[] }[] };

describe("a URL-signing key rotation under a running playback", () => {
  const stop = new AbortController();
  const done: Promise<void>[] = [];
  let dir: string;
  let kube: Kube;
  let nginx: RunningNginx;
  let steeringBase = "";
  let mastersDir = "";
  const files = new Map<string, Buffer>();

  /** What the chart's master Secret holds: `<kid>.key` entries and `primary`. */
  const setMasters = (keys: Record<string, string>, primary: string) =>
    writeLinkKeys(mastersDir, {
      ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`${k}.key`, v])),
      primary,
    });

  /** The kids the agents say their nginx holds, from their heartbeat Leases, when they all say the same. */
  const reportedKids = async () => {
    const said = new Set<string | undefined>();
    for (const s of servers) {
      const l = await kube.get<Lease>(Kinds.Lease, { namespace: ns, name: heartbeatLeaseName(cluster, s.name) });
      said.add(l === undefined ? undefined : heartbeatOf(l)?.linkKids?.join(","));
    }
    return said.size === 1 ? [...said][0] : undefined;
  };

  beforeAll(async () => {
    dir = await tempDir("url-signing-it-");
    kube = await Kube.connect(kubeconfig());
    await installCrds();
    await kubectlOk(["create", "namespace", ns]);
    // Fill Jobs run as the agent's ServiceAccount (kwok completes them).
    await kubectlOk(["create", "serviceaccount", "edgefleet-agent", "-n", ns]);
    for (const s of servers)
      await kubectlOk(
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: s.node } }),
      );
    mastersDir = join(dir, "masters");
    await setMasters({ k1: M1 }, "k1");
    const masters = await watchKeyDir(mastersDir, parseMasterKeys, { intervalMs: 200, log, signal: stop.signal });

    // nginx serving the title's files, its keys directory empty until the "kubelet" fills it.
    const content = join(dir, "content");
    for (const i of [0, 1, 2]) {
      const b = randomBytes(64 * 1024 + i);
      files.set(`rot/video/r${i}.mp4`, b);
      await mkdir(join(content, "rot", "video"), { recursive: true });
      await writeFile(join(content, "rot", "video", `r${i}.mp4`), b);
    }
    const keysDir = await writeLinkKeys(join(dir, "link-keys"), {});
    nginx = await startNginx(join(dir, "nginx"), content, {
      listen: ["127.0.0.1"],
      linkKeysDir: keysDir,
      accessLogUdpPort: await freePort(),
    });
    await applyFleet(new URL(nginx.http).port, new URL(nginx.https).port);

    const op = await startOperator(operatorOptions({ kube, log, namespace: ns, linkKeys: masters }), stop.signal);
    done.push(op.done, kubeletSync(keysDir));
    for (const s of servers) {
      const agent = await startAgent(
        {
          namespace: ns,
          cluster,
          servers: { [s.node]: s.name },
          ktls: "auto",
          contentPath: content,
          statusUrl: `http://127.0.0.1:${nginx.settings.statusPort}${STATUS_LOCATION}`,
          // nginx logs to the first agent only: a UDP port has one listener.
          accessLogUdpPort: s.name === "s01" ? (nginx.settings.accessLogUdpPort ?? 0) : await freePort(),
          metricsPort: await freePort(),
          metricsAddress: "127.0.0.1",
          heartbeatSeconds: 1,
          leaseDurationSeconds: 10,
        },
        {
          server: s.name,
          writer: kubeHeartbeatWriter(kube),
          probeKtls: async () => ({ ulps: [], tlsStat: undefined }),
          now: () => new Date(),
          log,
        },
      );
      stop.signal.addEventListener("abort", () => void agent.stop(), { once: true });
    }
    const st = await startSteering(
      steeringOptions({ kube, log, namespace: ns, linkKeys: masters, config: { urlTtlSeconds: 60 } }),
      stop.signal,
    );
    steeringBase = `http://127.0.0.1:${(st.server.address() as AddressInfo).port}`;
    done.push(st.done);
    await eventually(async () => ((await reportedKids()) === "k1" ? true : undefined), "the edge holding k1", 120_000);
  });

  afterAll(async () => {
    stop.abort();
    await Promise.all(done);
    await nginx?.stop();
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    for (const s of servers) await kubectl(["delete", "node", s.node, "--ignore-not-found"]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The OCACluster (its one server this host's nginx), a Title of three files, the region's Popularity. */
  async function applyFleet(httpPort: string, httpsPort: string) {
    const start = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const objs = [
      {
        apiVersion: "cdn.edgefleet.dev/v1alpha1",
        kind: "OCACluster",
        metadata: { name: cluster, namespace: ns },
        spec: {
          region,
          site: { type: "embedded", isp: "Loopback Telecom", asn: 64500 },
          location: { lat: 52.37, lon: 4.9 },
          serverClasses: [{ name: "storage", storage: "1Gi", throughput: "10Gbps" }],
          servers: servers.map((s) => ({ name: s.name, node: s.node, class: "storage", ipv4: "127.0.0.1" })),
          prefixes: [],
          fill: {
            window: { start: hhmm(start), end: hhmm(new Date(start.getTime() + 3 * 3600_000)), timeZone: "UTC" },
            bandwidthCap: "1Gbps",
            sources: { origin: "http://127.0.0.1:9" },
          },
          edge: {
            image: "ghcr.io/edgefleet/edgefleet-edge:test",
            httpPort: Number(httpPort),
            httpsPort: Number(httpsPort),
            tlsSecret: "edge-tls",
            ktls: "off",
          },
        },
      },
      {
        apiVersion: "cdn.edgefleet.dev/v1alpha1",
        kind: "Title",
        metadata: { name: "rot", namespace: ns },
        spec: {
          id: "rot",
          regions: [region],
          durationSeconds: 600,
          files: [...files].map(([path, b], i) => ({
            path,
            bytes: b.length,
            sha256: sha(b),
            kind: "video",
            codec: "h264",
            resolution: "1280x720",
            bitrateKbps: 500 * 2 ** i,
            vmaf: 50 + 40 * (1 - 2 ** -i),
          })),
        },
      },
      {
        apiVersion: "cdn.edgefleet.dev/v1alpha1",
        kind: "Popularity",
        metadata: { name: region, namespace: ns },
        spec: { region, catalogGeneration: "day-1", demand: { rot: 100 } },
      },
    ];
    await kubectlOk(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: objs }),
    );
  }

  /**
   * The kubelet's part: the cluster's link-key Secret, as the operator applies it, copied into nginx's
   * keys directory (an atomic swap of `..data`) whenever it changes. Every 250 ms here; the kubelet
   * takes up to its sync period (about a minute).
   */
  async function kubeletSync(keysDir: string): Promise<void> {
    let last = "";
    while (!stop.signal.aborted) {
      const s = await kube
        .get<KubeObject & { data?: Record<string, string> }>(Kinds.Secret, {
          namespace: ns,
          name: `edge-${cluster}-link-keys`,
        })
        .catch(() => undefined);
      const data = JSON.stringify(s?.data ?? {});
      if (s?.data && data !== last) {
        const entries = Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]);
        await writeLinkKeys(keysDir, Object.fromEntries(entries));
        last = data;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it("keeps every URL working through its validity while k2 comes in and k1 goes", async () => {
    const fetches: Fetch[] = [];
    const manifest = async (): Promise<Manifest | undefined> => {
      const r = await fetch(`${steeringBase}/v1/playback/rot`);
      return r.status === 200 ? ((await r.json()) as Manifest) : undefined;
    };
    const chunk = async (url: string, old: boolean) => {
      const u = new URL(url);
      const r = await get(`${nginx.http}${u.pathname}${u.search}`, { headers: { range: "bytes=0-1023" } });
      const kid = u.searchParams.get("kid") ?? "";
      fetches.push({ at: Date.now(), kid, exp: Number(u.searchParams.get("exp")), status: r.status, old });
      return r.status;
    };
    const first = await eventually(manifest, "a manifest", 120_000);
    const oldUrl = first.ladder[0]?.rungs[0]?.urls[0] ?? "";
    expect(new URL(oldUrl).searchParams.get("kid")).toBe("k1");

    // The player: a manifest every 3 s, a chunk of each rung every 500 ms, and the first manifest's
    // URL (k1) again each round until it expires.
    let held = first;
    let heldAt = Date.now();
    let playing = true;
    const player = (async () => {
      while (playing) {
        if (Date.now() - heldAt > 3000) {
          held = (await manifest()) ?? held;
          heldAt = Date.now();
        }
        for (const rung of held.ladder.flatMap((e) => e.rungs)) await chunk(rung.urls[0] ?? "", false);
        if (Number(new URL(oldUrl).searchParams.get("exp")) * 1000 > Date.now()) await chunk(oldUrl, true);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // k2 in, and primary, in one step: steering must keep signing k1 until the edge holds k2.
      await setMasters({ k1: M1, k2: M2 }, "k2");
      await eventually(async () => ((await reportedKids()) === "k1,k2" ? true : undefined), "the edge holding k2");
      await eventually(async () => (fetches.some((f) => f.kid === "k2") ? true : undefined), "a k2 URL in a manifest");
      const lastK1Exp = Math.max(...fetches.filter((f) => f.kid === "k1").map((f) => f.exp));
      // k1 out only once every k1 URL steering handed out has expired (its TTL here: 60 s, to the minute).
      await eventually(
        async () => (Date.now() / 1000 > lastK1Exp + 1 ? true : undefined),
        "the last k1 URL to expire",
        150_000,
      );
      await setMasters({ k2: M2 }, "k2");
      await eventually(async () => ((await reportedKids()) === "k2" ? true : undefined), "the edge holding only k2");
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      playing = false;
      await player;
    }

    const refusedInValidity = fetches.filter((f) => f.status >= 300 && f.at <= f.exp * 1000);
    expect(refusedInValidity).toEqual([]);
    const byKid = (kid: string) => fetches.filter((f) => f.kid === kid && f.status === 206).length;
    expect(byKid("k1")).toBeGreaterThan(0);
    expect(byKid("k2")).toBeGreaterThan(0);
    expect(fetches.filter((f) => f.old && f.status === 206).length).toBeGreaterThan(0);
    // A k1 link signed now, within its validity, for this client: refused, k1 is gone.
    const k1Now = signUrl({
      baseUrl: nginx.http,
      path: `/${[...files.keys()][0]}`,
      kid: "k1",
      key: deriveLinkKey(Buffer.from(M1), ns, cluster),
      net: "127.0.0.0/24",
      expiresAt: new Date(Date.now() + 600_000),
    });
    expect((await get(k1Now)).status).toBe(403);
    const k2 = (await manifest())?.ladder[0]?.rungs[0]?.urls[0] ?? "";
    expect(new URL(k2).searchParams.get("kid")).toBe("k2");
    expect(await chunk(k2, false)).toBe(206);
    process.stdout.write(
      `rotation: ${fetches.length} chunk fetches (${byKid("k1")} with k1, ${byKid("k2")} with k2), none refused within its validity\n`,
    );
  }, 300_000);
});
