/**
 * Faults on the running fleet (after 1-lifecycle): an edge node stops under a playing client, the
 * leading operator pod is deleted, the API server goes away and comes back. Each is done to the real thing (docker pause of the
 * node's container, kubectl delete of the pod, the kube-apiserver static pod's manifest moved out of and
 * back into the control-plane node's manifest directory); nothing is simulated.
 */
import { describe, expect, it } from "vitest";
import { nodeExec, step } from "../../hack/kind/cluster.js";
import {
  clientInside,
  type EdgeServer,
  longTitle,
  popularity,
  titleIdsInOrder,
} from "../../hack/kind/fleet-objects.js";
import { abrRule } from "../../player/src/abr/index.js";
import { play } from "../../player/src/play.js";
import { requestPlayback } from "../../player/src/steering-client.js";
import { expectedChunkSums } from "../../player/test/chunk-sums.js";
import {
  activePlacement,
  clusterObject,
  disksAgainstAssign,
  e2e,
  evicted,
  figure,
  kubectl,
  type ManifestBody,
  names,
  placements,
  seconds,
  skipReason,
  steering,
  titleObjects,
  until,
} from "./helpers.js";

/** Every edge address the manifests of every title name for a client inside the site. */
async function hostsInManifests(): Promise<Set<string>> {
  const hosts = new Set<string>();
  for (const t of await titleObjects()) {
    const r = await steering(`/v1/playback/${t.spec.id}`, clientInside);
    if (r.status !== 200) continue;
    for (const e of (r.body as ManifestBody).ladder)
      for (const rung of e.rungs) for (const u of rung.urls) hosts.add(new URL(u).hostname);
  }
  return hosts;
}

type Pod = {
  metadata: { name: string };
  status: { containerStatuses?: { restartCount: number }[] };
};
/** The release's pods (the operator's and steering's), or those of one component. */
async function controlPods(selector = "app.kubernetes.io/name=edgefleet"): Promise<Pod[]> {
  const out = await kubectl(["-n", names.releaseNamespace, "get", "pods", "-l", selector, "-o", "json"]);
  return (JSON.parse(out) as { items: Pod[] }).items;
}

/**
 * Steering's playback histograms for one cluster, summed over its replicas (each exports what it
 * received): ended sessions, their failovers and rebuffer ratios.
 */
async function playbackMetrics(
  cluster: string,
): Promise<{ sessions: number; failovers: number; rebufferRatio: number }> {
  const sum = { sessions: 0, failovers: 0, rebufferRatio: 0 };
  for (const pod of (await controlPods("app.kubernetes.io/component=steering")).map((p) => p.metadata.name)) {
    const text = await kubectl([
      "get",
      "--raw",
      // 8081: the chart's steering.healthPort, where /metrics is served.
      `/api/v1/namespaces/${names.releaseNamespace}/pods/${pod}:8081/proxy/metrics`,
    ]);
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{cluster="${cluster}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    sum.sessions += value("edgefleet_playback_failovers_count");
    sum.failovers += value("edgefleet_playback_failovers_sum");
    sum.rebufferRatio += value("edgefleet_playback_rebuffer_ratio_sum");
  }
  return sum;
}

const restarts = (ps: readonly Pod[]) =>
  Object.fromEntries(
    ps.map((p) => [p.metadata.name, (p.status.containerStatuses ?? []).reduce((a, c) => a + c.restartCount, 0)]),
  );

async function leaderOf(): Promise<string | undefined> {
  const out = await kubectl([
    "-n",
    names.releaseNamespace,
    "get",
    "lease",
    "edgefleet-operator",
    "-o",
    "jsonpath={.spec.holderIdentity}",
  ]);
  return out.trim() || undefined;
}

async function apiAnswers(): Promise<boolean> {
  return kubectl(["get", "--raw", "/readyz", "--request-timeout=3s"]).then(
    (o) => o.trim() === "ok",
    () => false,
  );
}

// On an unshaped link the throughput rule holds the top rendition, so the client keeps fetching from the
// one server that holds it: the node paused is the one it streams from, whatever the rung's holder is.
const throughputRule = abrRule("throughput");
if (throughputRule === undefined) throw new Error("no throughput rule");

describe.skipIf(skipReason !== "")("faults on the fleet", () => {
  it("an edge node paused under a playing client: the client goes on from the next ranked server without a stall; steering drops the node within its Lease duration, and names it again once it is back", async () => {
    const { fleet } = e2e();
    await until("the day-1 Placement Active", () => activePlacement("day-1"));
    await until("the IX site's day-1 Placement Active", () => activePlacement("day-1", names.ixCluster));
    const isp = new Map(fleet.servers.map((s) => [s.ipv4, s]));
    const ix = new Set(fleet.ixServers.map((s) => s.ipv4));
    const host = (url: string | undefined) => (url === undefined ? "" : new URL(url).hostname);
    const tls = { ca: fleet.caPem };
    // The player asks steering itself from this host, on the kind network both sites are announced
    // (no X-Forwarded-For: the NodePort keeps its address), so its links are bound to the /24 the edges
    // see it from. Each rendition: the ISP site's holder first, the IX site's server last.
    const content = await until("a manifest ranking the ISP site's holder, then the IX site", async () => {
      const c = await requestPlayback(fleet.steeringUrl, longTitle, tls);
      return c.urls.every((u) => isp.has(host(u[0])) && ix.has(host(u.at(-1)))) ? c : undefined;
    });

    let paused: { server: EdgeServer; at: number; bufferS: number } | undefined;
    let pausing: Promise<unknown> | undefined;
    const started = Date.now();
    const playing = play({
      steering: fleet.steeringUrl,
      title: longTitle,
      rule: throughputRule,
      // 20 s: the client fetches a chunk every 4 s of real time, so it is mid-stream when the node stops.
      maxBufferS: 20,
      heartbeatS: 1,
      tls,
      onProgress: (r) => {
        const server = isp.get(host(r.lastUrl));
        if (pausing !== undefined || r.startupS === undefined || r.bufferS < 10 || server === undefined) return;
        paused = { server, at: Date.now(), bufferS: r.bufferS };
        pausing = step("docker", "docker", ["pause", server.node]);
      },
    });
    const played = playing.then(
      (r) => ({ r }),
      (err: unknown) => ({ err }),
    );
    try {
      const victim = await until(
        "the client mid-stream with ≥ 10 s buffered, and the node it streams from paused",
        async () => {
          if (pausing === undefined) return undefined;
          await pausing;
          return paused?.server;
        },
        60_000,
        200,
      );
      const lease = JSON.parse(
        await kubectl(["-n", names.namespace, "get", "lease", `edge-${names.cluster}-${victim.name}`, "-o", "json"]),
      ) as { spec: { leaseDurationSeconds: number } };
      const duration = lease.spec.leaseDurationSeconds;
      const live = await until(
        `steering to stop naming ${victim.ipv4}`,
        async () => {
          const hosts = await hostsInManifests();
          return hosts.has(victim.ipv4) ? undefined : hosts;
        },
        (duration + 60) * 1000,
        500,
      );
      const dropped = seconds(paused?.at ?? 0);
      figure("heartbeatDropSeconds", dropped);
      figure("heartbeatLeaseDurationSeconds", duration);
      // Within the Lease's own duration (plus the half-second poll and a refresh) of its last renewal.
      expect(dropped).toBeLessThanOrEqual(duration + 5);
      const alive = new Set(fleet.servers.filter((s) => s !== victim).map((s) => s.ipv4));
      expect(
        [...live].every((h) => alive.has(h)),
        `only live servers: ${[...live].join(", ")}`,
      ).toBe(true);
      const c = await until("the OCACluster to report the server Stale", async () => {
        const o = await clusterObject();
        return o?.status?.servers?.find((s) => s.name === victim.name)?.health === "Stale" ? o : undefined;
      });
      expect(c.status?.capacity?.readyServers).toBe(fleet.servers.length - 1);
    } finally {
      if (paused !== undefined) {
        await pausing?.catch(() => undefined);
        await step("docker", "docker", ["unpause", paused.server.node]);
      }
    }
    const back = Date.now();
    const victim = paused?.server;
    if (victim === undefined) throw new Error("no node was paused");
    // Watched from the unpause on, while the client plays on: when steering names the server again.
    const recovered = until(`steering to name ${victim.ipv4} again`, async () =>
      (await hostsInManifests()).has(victim.ipv4) ? Date.now() : undefined,
    );
    void recovered.catch(() => undefined); // awaited below; a failed assertion first must not leave it unhandled

    const outcome = await played;
    if ("err" in outcome) throw outcome.err;
    const r = outcome.r;
    figure("playbackFailover", {
      title: longTitle,
      seconds: seconds(started),
      chunks: r.bitrates.length,
      bufferAtPauseS: Math.round((paused?.bufferS ?? 0) * 10) / 10,
      failovers: r.failovers,
      failures: r.failures,
      stalledS: r.rebufferS,
      from: victim.node,
      to: host(r.lastUrl),
    });
    expect(paused?.bufferS).toBeGreaterThanOrEqual(10);
    expect(r.done).toBe(true);
    expect(r.failovers).toBeGreaterThanOrEqual(1);
    expect(r.failures[0]).toMatch(/^(timeout|stall)/);
    expect(r.rebufferS).toBe(0);
    expect(ix.has(host(r.lastUrl)), `the last chunk from the IX site, not ${host(r.lastUrl)}`).toBe(true);
    // Every chunk played is the origin's bytes of its range.
    expect(r.chunkSha256).toEqual(expectedChunkSums(content, r.bitrates));
    expect(r.telemetry.accepted).toBe(r.telemetry.sent);
    // Steering's telemetry: the session ended on the IX site, with its failover and no stall.
    const ended = await playbackMetrics(names.ixCluster);
    expect(ended.sessions).toBeGreaterThanOrEqual(1);
    expect(ended.failovers).toBeGreaterThanOrEqual(1);
    expect(ended.rebufferRatio).toBe(0);

    figure("heartbeatRecoverySeconds", seconds(back, await recovered));
    await until("every server Healthy again", async () =>
      (await clusterObject())?.status?.servers?.every((s) => s.health === "Healthy") ? true : undefined,
    );
  });

  it("the leader operator pod deleted: the other replica takes over, and a new Popularity is planned and filled", async () => {
    const leader = await leaderOf();
    const other = (await controlPods()).map((p) => p.metadata.name).find((n) => n !== leader && n.includes("operator"));
    expect(leader).toBeDefined();
    expect(other).toBeDefined();
    const deleted = Date.now();
    await kubectl(["-n", names.releaseNamespace, "delete", "pod", leader ?? "", "--wait=false"]);
    // The standby normally wins; the Deployment's replacement pod may, if it starts first. Either is a
    // live replica other than the one deleted.
    const next = await until(
      "another replica to lead",
      async () => {
        const now = await leaderOf();
        return now && now !== leader ? now : undefined;
      },
      120_000,
      250,
    );
    figure("operatorFailoverTo", next === other ? "standby" : "replacement");
    figure("operatorFailoverSeconds", seconds(deleted));

    const old = await until("the day-1 Placement Active", () => activePlacement("day-1"));
    const changed = Date.now();
    // A day's drift: the two most played titles trade places, and the least played climbs to third.
    const [first = "", second = "", ...rest] = titleIdsInOrder;
    const day2 = popularity("day-2", [second, first, rest.at(-1) ?? "", ...rest.slice(0, -1)]);
    await kubectl(
      ["apply", "--server-side", "--force-conflicts", "--field-manager=edgefleet-kind", "-f", "-"],
      JSON.stringify(day2),
    );
    const active = await until("the day-2 Placement Active", () => activePlacement("day-2"), 300_000);
    figure("popularityToActiveSecondsAfterFailover", seconds(changed));
    const superseded = (await placements()).find((p) => p.metadata.name === old.metadata.name);
    expect(superseded?.status?.phase).toBe("Superseded");

    await evicted(active);
    for (const { node, want, disk } of await disksAgainstAssign(active)) {
      expect([...disk.keys()].sort(), `files on ${node}`).toEqual([...want.keys()].sort());
      for (const [path, sum] of want) expect(disk.get(path), path).toBe(sum);
    }
    // The files that moved between servers came from the peer that held them, not from the origin.
    const logs = await kubectl([
      "-n",
      names.namespace,
      "logs",
      "--tail=-1",
      "-l",
      `cdn.edgefleet.dev/placement=${active.metadata.name},cdn.edgefleet.dev/job=fill`,
    ]);
    // Each fill Job ends by printing its report; downloadedFrom splits its bytes by source.
    const bySource = { origin: 0, peers: 0 };
    for (const line of logs.split("\n").filter((l) => l.includes('"downloadedFrom"'))) {
      const r = JSON.parse(line) as { downloadedFrom?: { origin: number; peers: number } };
      bySource.origin += r.downloadedFrom?.origin ?? 0;
      bySource.peers += r.downloadedFrom?.peers ?? 0;
    }
    figure("day2FilledBytes", bySource);
    if (bySource.origin + bySource.peers > 0) expect(bySource.peers).toBeGreaterThan(0);
  });

  it("the API server stopped and restarted: watches recover, the operator and steering converge without restarting", async () => {
    const { fleet } = e2e();
    const before = restarts(await controlPods());
    const manifests = "/etc/kubernetes/manifests";
    const cp = fleet.controlPlane.name;
    await nodeExec(cp, ["mv", `${manifests}/kube-apiserver.yaml`, "/etc/kubernetes/kube-apiserver.yaml.stopped"]);
    try {
      await until("the API server to stop", async () => ((await apiAnswers()) ? undefined : true), 120_000);
      // Steering answers from what it holds while the API is away.
      const during = await steering(`/v1/steering?ip=${clientInside}`, clientInside);
      expect(during.status).toBe(200);
      await new Promise((r) => setTimeout(r, 15_000));
    } finally {
      await nodeExec(cp, ["mv", "/etc/kubernetes/kube-apiserver.yaml.stopped", `${manifests}/kube-apiserver.yaml`]);
    }
    await until("the API server to answer again", async () => ((await apiAnswers()) ? true : undefined), 180_000);
    const up = Date.now();

    // A change made after the restart reaches both: the operator writes the new Title's status, steering
    // learns the title. It is licensed in another region, so the fleet's catalog does not move.
    const late = (await titleObjects())[0];
    if (!late) throw new Error("no Title");
    const title = {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Title",
      metadata: { name: "late-arrival", namespace: names.namespace },
      spec: {
        ...late.spec,
        id: "late-arrival",
        regions: ["elsewhere"],
        files: late.spec.files.map((f) => ({ ...f, path: `late-arrival/${f.path}` })),
      },
    };
    await until("the new Title to be accepted", async () =>
      kubectl(["apply", "--server-side", "--field-manager=edgefleet-kind", "-f", "-"], JSON.stringify(title)),
    );
    const statusAt = await until("the operator to write the new Title's status", async () => {
      const t = (await titleObjects()).find((x) => x.metadata.name === "late-arrival");
      return t?.status?.observedGeneration === t?.metadata.generation && t?.status?.ladder ? Date.now() : undefined;
    });
    const steeringAt = await until("steering to learn the new Title", async () => {
      const r = await steering("/v1/playback/late-arrival", clientInside);
      return (r.body as { error?: { code?: string } }).error?.code === "UnknownTitle" ? undefined : Date.now();
    });
    figure("apiserverRestartRecoveredSeconds", seconds(up, Math.max(statusAt, steeringAt)));
    const after = restarts(await controlPods());
    expect(after).toEqual(before);
    await kubectl(["-n", names.namespace, "delete", "title", "late-arrival", "--wait=false"]);
  });
});
