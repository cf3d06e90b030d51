/**
 * The fleet's lifecycle on real kind nodes, in order: the chart's operator plans an HCA Placement, waits
 * for the site's fill window, fills each server's real disk with fill Jobs on its own node, promotes the
 * Placement; the edge DaemonSet's nginx and agent run on every edge node and their heartbeats make the
 * cluster healthy; steering sends a client inside the site's prefixes there, and one on the kind network
 * there first and to the IX site next; the manifest's signed URLs serve the declared bytes from the edge
 * nginx, the operator image's `edgefleet play` plays through them, and bad or expired links get 403.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { step } from "../../hack/kind/cluster.js";
import { clientInside, titleIdsInOrder } from "../../hack/kind/fleet-objects.js";
import { heartbeatOf } from "../../operator/src/api/index.js";
import { deriveLinkKey, signUrl } from "../../operator/src/steering/sign-url.js";
import { requestPlayback } from "../../player/src/steering-client.js";
import { expectedChunkSums } from "../../player/test/chunk-sums.js";
import {
  activePlacement,
  clusterObject,
  disksAgainstAssign,
  e2e,
  evicted,
  fetchEdge,
  figure,
  kubectl,
  leases,
  type ManifestBody,
  names,
  placements,
  seconds,
  skipReason,
  steering,
  titleObjects,
  until,
} from "./helpers.js";

type Pod = {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    startTime?: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number }[];
  };
};
const pods = async (ns: string, selector: string) =>
  (JSON.parse(await kubectl(["-n", ns, "get", "pods", "-l", selector, "-o", "json"])) as { items: Pod[] }).items;

describe.skipIf(skipReason !== "")("the fleet on kind, on real nodes", () => {
  it("runs the chart's operator (two replicas, one leader) and steering (two replicas)", async () => {
    const ops = await pods(names.releaseNamespace, "app.kubernetes.io/component=operator");
    const steer = await pods(names.releaseNamespace, "app.kubernetes.io/component=steering");
    expect(ops.map((p) => p.status.phase)).toEqual(["Running", "Running"]);
    expect(steer.map((p) => p.status.phase)).toEqual(["Running", "Running"]);
    const lease = JSON.parse(
      await kubectl(["-n", names.releaseNamespace, "get", "lease", "edgefleet-operator", "-o", "json"]),
    ) as { spec: { holderIdentity?: string } };
    expect(ops.map((p) => p.metadata.name)).toContain(lease.spec.holderIdentity);
  });

  it("plans an HCA Placement over both edge servers, and runs no fill Job before the window opens", async () => {
    const { windowOpensAt, fleet } = e2e();
    const planned = await until("a Placement for day-1", async () =>
      (await placements()).find(
        (p) => p.spec.cluster === names.cluster && p.spec.catalogGeneration.startsWith("day-1."),
      ),
    );
    expect(planned.spec.servers.map((s) => s.name).sort()).toEqual(fleet.servers.map((s) => s.name).sort());
    expect(planned.spec.servers.every((s) => s.headTokens + s.tailTokens > 0)).toBe(true);
    if (Date.now() < windowOpensAt - 5_000) {
      const jobs = await kubectl(["-n", names.namespace, "get", "jobs", "-o", "name"]);
      expect(jobs.trim()).toBe("");
      const p = await until("the Placement's status", async () =>
        (await placements()).find((x) => x.metadata.name === planned.metadata.name && x.status?.phase),
      );
      expect(p.status?.phase).toBe("Pending");
      expect(p.status?.conditions?.find((c) => c.type === "Filled")?.reason).toBe("WaitingForWindow");
    } else {
      console.error("e2e: the fill window opened before the Placement was seen; the before-window check is skipped");
    }
  });

  it("runs nginx and the agent Ready on every edge node; the agents' heartbeats make the cluster healthy", async () => {
    const { fleet } = e2e();
    const edge = await until(
      "edge pods Ready on every edge node",
      async () => {
        const ps = await pods(
          names.namespace,
          `app.kubernetes.io/name=edgefleet-edge,cdn.edgefleet.dev/cluster=${names.cluster}`,
        );
        const ready = ps.filter(
          (p) => p.status.containerStatuses?.every((c) => c.ready) && p.status.containerStatuses.length === 2,
        );
        return ready.length === fleet.servers.length ? ready : undefined;
      },
      240_000,
    );
    expect(edge.map((p) => p.spec.nodeName).sort()).toEqual(fleet.servers.map((s) => s.node).sort());
    figure("edgePodsReady", edge.length);
    const beats = await until("a heartbeat Lease from every server", async () => {
      const hs = (await leases()).flatMap((l) => {
        const hb = heartbeatOf(l);
        return hb?.cluster === names.cluster ? [hb] : [];
      });
      return hs.length === fleet.servers.length ? hs : undefined;
    });
    expect(beats.map((h) => h.server).sort()).toEqual(fleet.servers.map((s) => s.name).sort());
    const healthy = await until("every server Healthy in the OCACluster's status", async () => {
      const c = await clusterObject();
      return c?.status?.servers?.every((s) => s.health === "Healthy") &&
        c.status.servers.length === fleet.servers.length
        ? c
        : undefined;
    });
    expect(healthy.status?.capacity?.readyServers).toBe(fleet.servers.length);
  });

  it("fills each server's disk with a Job on that server's node inside the window, then makes the Placement Active", async () => {
    const { windowOpensAt, installedAt, fleet } = e2e();
    const active = await until("the day-1 Placement Active", () => activePlacement("day-1"), 300_000);
    figure("timeToActiveSeconds", seconds(installedAt));
    figure("fillSecondsAfterWindowOpened", seconds(windowOpensAt));
    type Job = { metadata: { labels: Record<string, string> }; status: { succeeded?: number } };
    const jobs = (
      JSON.parse(
        await kubectl([
          "-n",
          names.namespace,
          "get",
          "jobs",
          "-l",
          `cdn.edgefleet.dev/placement=${active.metadata.name},cdn.edgefleet.dev/job=fill`,
          "-o",
          "json",
        ]),
      ) as { items: Job[] }
    ).items;
    expect(jobs.map((j) => j.metadata.labels["cdn.edgefleet.dev/server"]).sort()).toEqual(
      fleet.servers.map((s) => s.name).sort(),
    );
    expect(jobs.every((j) => j.status.succeeded === 1)).toBe(true);
    const fillPods = await pods(
      names.namespace,
      `cdn.edgefleet.dev/placement=${active.metadata.name},cdn.edgefleet.dev/job=fill`,
    );
    for (const p of fillPods) {
      const server = fleet.servers.find((s) => s.name === p.metadata.labels?.["cdn.edgefleet.dev/server"]);
      expect(p.spec.nodeName).toBe(server?.node);
      expect(Date.parse(p.status.startTime ?? "")).toBeGreaterThanOrEqual(windowOpensAt - 1000);
    }
  });

  it("tells the lifecycle in the Events kubectl describe shows: planned, scheduled, started, promoted", async () => {
    const active = await until("the day-1 Placement Active", () => activePlacement("day-1"));
    const describeOf = (kind: string, name: string) => kubectl(["-n", names.namespace, "describe", kind, name]);
    const has = (out: string, reasons: string[]) => reasons.every((r) => new RegExp(`Normal\\s+${r}\\s`).test(out));
    const cluster = await until("the OCACluster's Events", async () => {
      const out = await describeOf("ocacluster", names.cluster);
      return has(out, ["PlacementPlanned", "PlacementPromoted"]) ? out : undefined;
    });
    expect(cluster).toContain(`planned placement ${active.metadata.name} (catalog day-1`);
    const placement = await until("the Placement's Events", async () => {
      const out = await describeOf("placement", active.metadata.name);
      return has(out, ["FillScheduled", "FillStarted", "PlacementPromoted"]) ? out : undefined;
    });
    const events = placement.slice(placement.indexOf("Events:"));
    figure("placementEvents", events.split("\n").filter((l) => /^\s+(Normal|Warning)\s/.test(l)).length);
    // Once each: a reconcile that runs again records nothing more.
    for (const r of ["FillScheduled", "FillStarted", "PlacementPromoted"])
      expect(events.match(new RegExp(`\\s${r}\\s`, "g")), r).toHaveLength(1);
  });

  it("leaves on each server's disk exactly the files assign() gives it, every one with the sha256 its Title declares", async () => {
    const { fleet } = e2e();
    const active = await until("the day-1 Placement Active", () => activePlacement("day-1"));
    // Eviction runs once the Placement is Active; wait for it so the disk holds only what the ring names.
    await evicted(active);
    let files = 0;
    let bytes = 0;
    let mismatches = 0;
    const sizes = new Map((await titleObjects()).flatMap((t) => t.spec.files.map((f) => [f.path, f.bytes] as const)));
    for (const { node, want, disk } of await disksAgainstAssign(active)) {
      expect([...disk.keys()].sort(), `files on ${node}`).toEqual([...want.keys()].sort());
      for (const [path, sum] of want) {
        if (disk.get(path) !== sum) mismatches++;
        files++;
        bytes += sizes.get(path) ?? 0;
      }
    }
    figure("filledFiles", files);
    figure("filledBytes", bytes);
    figure("sha256Mismatches", mismatches);
    expect(mismatches).toBe(0);
    expect(files).toBeGreaterThanOrEqual(fleet.files.length);
  });

  it("steers a client inside the site's prefixes to that site first", async () => {
    const r = await steering(`/v1/steering?ip=${clientInside}`, clientInside);
    expect(r.status).toBe(200);
    const body = r.body as { clusters: { name: string }[] };
    figure("steeringFirstCluster", body.clusters[0]?.name);
    expect(body.clusters[0]?.name).toBe(names.cluster);
  });

  it("ranks the IX site next for a client on the kind network, whose prefix both sites are announced; its one server holds the catalog", async () => {
    const { fleet } = e2e();
    const ix = await until(
      "the IX site's day-1 Placement Active",
      () => activePlacement("day-1", names.ixCluster),
      300_000,
    );
    expect(ix.spec.servers.map((s) => s.name)).toEqual(fleet.ixServers.map((s) => s.name));
    const ranked = await until("steering to rank both sites for a client on the kind network", async () => {
      const r = await steering(`/v1/steering?ip=${fleet.edgeClient}`, fleet.edgeClient);
      const names = (r.body as { clusters?: { name: string }[] }).clusters?.map((c) => c.name);
      return names?.length === 2 ? names : undefined;
    });
    expect(ranked).toEqual([names.cluster, names.ixCluster]);
    // The ISP's customer prefix is announced to the ISP site alone.
    const inside = (await steering(`/v1/steering?ip=${clientInside}`, clientInside)).body as {
      clusters: { name: string }[];
    };
    expect(inside.clusters.map((c) => c.name)).toEqual([names.cluster]);
  });

  it("serves every rung of every title from the edge nginx on the node addresses, with the declared bytes", async () => {
    const { fleet } = e2e();
    const declared = new Map(
      (await titleObjects()).flatMap((t) => t.spec.files.map((f) => [f.path, f.sha256] as const)),
    );
    const serverIps = new Set(fleet.servers.map((s) => s.ipv4));
    let total = 0;
    for (const t of await titleObjects()) {
      const r = await until(`a playback manifest for ${t.spec.id}`, async () => {
        // Links are bound to the client's /24: the client is this host, as the edges see it.
        const m = await steering(`/v1/playback/${t.spec.id}`, fleet.edgeClient);
        return m.status === 200 ? (m.body as ManifestBody) : undefined;
      });
      const rungs = r.ladder.flatMap((e) => e.rungs);
      expect(rungs.length).toBeGreaterThan(0);
      for (const rung of rungs) {
        const url = new URL(rung.urls[0] ?? "");
        expect(serverIps.has(url.hostname), `${url.hostname} is an edge server`).toBe(true);
        const got = await fetchEdge(url.href);
        expect(got.status, url.href).toBe(200);
        expect(got.sha256, rung.path).toBe(declared.get(rung.path));
        total += got.bytes;
      }
    }
    figure("playbackBytesFromEdge", total);
  });

  it("`edgefleet play` in the operator image, in a container on the kind network, plays a title through steering and the edges", async () => {
    const { fleet } = e2e();
    const title = titleIdsInOrder[0] ?? "";
    const dir = await mkdtemp(join(tmpdir(), "edgefleet-play-"));
    try {
      const ca = join(dir, "edge-ca.pem");
      await writeFile(ca, fleet.caPem, { mode: 0o644 });
      // A device of the ISP's: steering sees the container's own address (the NodePort keeps it), and
      // binds its links to the /24 the edges see it from.
      const out = await step("play", "docker", [
        "run",
        "--rm",
        "--network",
        "kind",
        "-v",
        `${ca}:/etc/edgefleet/edge-ca.pem:ro`,
        `edgefleet:${process.env.EDGEFLEET_E2E_TAG ?? "e2e"}`,
        "play",
        "--steering",
        fleet.steeringUrl,
        "--title",
        title,
        "--ca",
        "/etc/edgefleet/edge-ca.pem",
        "--json",
      ]);
      const r = JSON.parse(out.trim().split("\n").at(-1) ?? "") as {
        chunks: number;
        failovers: number;
        bitrates: number[];
        chunkSha256: string[];
        telemetry: { sent: number; accepted: number };
      };
      expect([r.chunks, r.failovers]).toEqual([3, 0]);
      expect(r.telemetry.accepted).toBe(r.telemetry.sent);
      const content = await requestPlayback(fleet.steeringUrl, title, { ca: fleet.caPem });
      expect(r.chunkSha256).toEqual(expectedChunkSums(content, r.bitrates));
      figure("edgefleetPlayChunks", r.chunks);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers 403 from the real edge for a tampered, an expired, a foreign or a misused link", async () => {
    const { fleet } = e2e();
    const title = (await titleObjects())[0]?.spec.id;
    const m = (await steering(`/v1/playback/${title}`, fleet.edgeClient)).body as ManifestBody;
    const good = new URL(m.ladder[0]?.rungs[0]?.urls[0] ?? "");
    expect((await fetchEdge(good.href)).status).toBe(200);
    const tampered = new URL(good.href);
    const sig = good.searchParams.get("sig") ?? "";
    tampered.searchParams.set("sig", `${sig.startsWith("A") ? "B" : "A"}${sig.slice(1)}`);
    expect((await fetchEdge(tampered.href)).status).toBe(403);
    const link = (o: { key?: Buffer; net?: string; expiresInMs?: number; kid?: string }) =>
      signUrl({
        baseUrl: good.origin,
        path: good.pathname,
        kid: o.kid ?? "k1",
        key: o.key ?? deriveLinkKey(Buffer.from(fleet.linkMaster), names.namespace, names.cluster),
        net: o.net ?? "any",
        expiresAt: new Date(Date.now() + (o.expiresInMs ?? 600_000)),
      });
    expect((await fetchEdge(link({}))).status).toBe(200);
    expect((await fetchEdge(link({ expiresInMs: -60_000 }))).status).toBe(403);
    // Another cluster's key, a kid the edge lacks, a client network this host is not in.
    const foreign = deriveLinkKey(Buffer.from(fleet.linkMaster), names.namespace, "another-cluster");
    expect((await fetchEdge(link({ key: foreign }))).status).toBe(403);
    expect((await fetchEdge(link({ kid: "k9" }))).status).toBe(403);
    expect((await fetchEdge(link({ net: "198.51.100.0/24" }))).status).toBe(403);
    const manifestForAnother = (await steering(`/v1/playback/${title}`, clientInside)).body as ManifestBody;
    expect((await fetchEdge(manifestForAnother.ladder[0]?.rungs[0]?.urls[0] ?? "")).status).toBe(403);
  });
});
