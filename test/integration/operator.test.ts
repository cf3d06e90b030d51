/**
 * The operator against the real control plane: it plans each sample cluster with HCA, runs one fill
 * Job per server on kwok nodes inside the fill window, promotes the Placement to Active when every Job
 * completes, and replaces it when the region's popularity changes.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeatLease } from "../../operator/src/api/index.js";
import { fleetNodes, sampleFleet } from "../../operator/src/api/testdata/samples.js";
import { startOperator } from "../../operator/src/operator.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { fixedLinkKeys, parseClusterKeys } from "../../operator/src/steering/link-keys.js";
import { deriveLinkKey } from "../../operator/src/steering/sign-url.js";
import { eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";

const ns = `op-${Date.now().toString(36)}`;
/** Namespaces whose Pod Security admission enforces the restricted and the baseline level. */
const pssNs = `${ns}-restricted`;
const baselineNs = `${ns}-baseline`;
const fleet = sampleFleet(new Date());
const MASTER_K1 = Buffer.from("operator-test-master-k1-0123456789ab");
const clusters = fleet.clusters;
const nodeNames = fleetNodes(fleet);

const json = async (args: string[]) => JSON.parse(await kubectlOk([...args, "-n", ns, "-o", "json"]));
type Listed = {
  items: {
    metadata: { name: string };
    spec: { cluster: string };
    status?: { phase?: string; promotedAt?: string; supersededAt?: string; evictedServers?: string[] };
  }[];
};

describe("operator", () => {
  const stop = new AbortController();
  let done: Promise<void> | undefined;

  beforeAll(async () => {
    await installCrds();
    await kubectlOk(["create", "namespace", ns]);
    await kubectlOk(["create", "serviceaccount", "edgefleet-agent", "-n", ns]);
    for (const { name, level } of [
      { name: pssNs, level: "restricted" },
      { name: baselineNs, level: "baseline" },
    ]) {
      await kubectlOk(["create", "namespace", name]);
      await kubectlOk(["label", "namespace", name, `pod-security.kubernetes.io/enforce=${level}`]);
      await kubectlOk(["create", "serviceaccount", "edgefleet-agent", "-n", name]);
    }
    const nodes = nodeNames.map((name) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "edgefleet.dev/test": ns } },
      status: {
        allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
        capacity: { cpu: "32", memory: "256Gi", pods: "110" },
      },
    }));
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }));
    const objs = [...clusters, ...fleet.titles, ...fleet.popularities];
    await kubectlOk(
      ["apply", "--server-side", "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: objs }),
    );
    const kube = await Kube.connect(kubeconfig());
    const op = await startOperator(
      {
        kube,
        log: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
        namespace: ns,
        identity: "test",
        leaseNamespace: ns,
        healthPort: 0,
        healthHost: "127.0.0.1",
        // Evict waits the signed-URL lifetime after promotion: seconds here, not six hours.
        fill: { evictDelaySeconds: 2 },
        linkKeys: fixedLinkKeys({ keys: new Map([["k1", MASTER_K1]]), primary: "k1" }),
      },
      stop.signal,
    );
    done = op.done;
  });

  afterAll(async () => {
    stop.abort();
    await done;
    await kubectl(["delete", "namespace", ns, pssNs, baselineNs, "--wait=false"]);
    await kubectl(["delete", "node", "-l", `edgefleet.dev/test=${ns}`, "--wait=false"]);
  });

  it("publishes each Title's ladder and each cluster's capacity", async () => {
    await eventually(async () => {
      const t = await json(["get", "titles"]);
      return t.items.every((i: { status?: { ladder?: unknown[] } }) => (i.status?.ladder?.length ?? 0) > 0)
        ? true
        : undefined;
    }, "every Title to have a ladder");
    const c = await json(["get", "oca", "ams-polder-1"]);
    await eventually(
      async () => ((await json(["get", "oca", "ams-polder-1"])).status?.capacity ? true : undefined),
      "capacity",
    );
    expect(c.spec.servers.length).toBe(6);
  });

  it("runs an edge DaemonSet on exactly each cluster's nodes, configured from its spec", async () => {
    const ds = await eventually(async () => {
      const r = await kubectl(["get", "daemonset", "edge-ams-polder-1", "-n", ns, "-o", "json"]);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, "the edge DaemonSet");
    const terms = ds.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    const ams = clusters.find((c) => c.metadata.name === "ams-polder-1");
    const want = ((ams?.spec ?? {}) as { servers?: { node: string }[] }).servers?.map((s) => s.node);
    const nodes = terms.nodeSelectorTerms.map(
      (t: { matchFields: { values: string[] }[] }) => t.matchFields[0]?.values[0],
    );
    expect(nodes).toEqual(want);
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    const cm = await json(["get", "configmap", "edge-ams-polder-1"]);
    expect(JSON.parse(cm.data["edge.yaml"])).toMatchObject({ ktls: "auto", contentPath: "/var/lib/edgefleet/content" });
    // The cluster's link keys: derived for it from the master, in its own Secret, mounted into nginx.
    const secret = await json(["get", "secret", "edge-ams-polder-1-link-keys"]);
    const entries = new Map(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64")]),
    );
    const keys = parseClusterKeys(entries);
    expect(keys.primary).toBe("k1");
    expect(keys.keys.get("k1")?.equals(deriveLinkKey(MASTER_K1, ns, "ams-polder-1"))).toBe(true);
    const volumes: { secret?: { secretName: string } }[] = ds.spec.template.spec.volumes;
    expect(volumes.map((v) => v.secret?.secretName)).toContain("edge-ams-polder-1-link-keys");
    await eventually(async () => {
      const o = await json(["get", "oca", "ams-polder-1"]);
      const cs: { type: string; status: string }[] = o.status?.conditions ?? [];
      return cs.some((c) => c.type === "EdgeConfigured" && c.status === "True") ? true : undefined;
    }, "EdgeConfigured=True");
  });

  it("creates a Placement per cluster, fills it with one Job per server, and makes it Active", async () => {
    const active = await eventually(
      async () => {
        const l = (await json(["get", "placements"])) as Listed;
        const act = l.items.filter((p) => p.status?.phase === "Active");
        return act.length === clusters.length ? act : undefined;
      },
      "an Active placement for every cluster",
      120_000,
    );
    expect(new Set(active.map((p) => p.spec.cluster))).toEqual(new Set(clusters.map((c) => c.metadata.name)));
    const fills = await json(["get", "jobs", "-l", "cdn.edgefleet.dev/job=fill"]);
    expect(fills.items.length).toBe(nodeNames.length);
    for (const j of fills.items) {
      expect(j.status.succeeded).toBe(1);
      expect(j.spec.ttlSecondsAfterFinished).toBe(86400);
    }
    // Only once a Placement is Active, and the signed-URL lifetime (2 s here) after, do its servers
    // evict what it does not name: one Job per server.
    const evicts = await eventually(async () => {
      const e = await json(["get", "jobs", "-l", "cdn.edgefleet.dev/job=evict"]);
      return e.items.length === nodeNames.length ? e : undefined;
    }, "one evict Job per server");
    const promotedAt = new Map(active.map((p) => [p.metadata.name, Date.parse(p.status?.promotedAt ?? "")]));
    for (const e of evicts.items as { metadata: { creationTimestamp: string; labels: Record<string, string> } }[]) {
      const promoted = promotedAt.get(e.metadata.labels["cdn.edgefleet.dev/placement"] ?? "") ?? Number.NaN;
      expect(Date.parse(e.metadata.creationTimestamp)).toBeGreaterThanOrEqual(promoted + 2000);
    }
    await eventually(async () => {
      const l = (await json(["get", "placements"])) as Listed;
      const done = l.items.filter((p) => p.status?.evictedServers?.length && p.status.phase === "Active");
      return done.length === clusters.length ? true : undefined;
    }, "every Active placement's servers evicted, in its status");
    expect(
      evicts.items.every(
        (j: { spec: { template: { spec: { containers: { args: string[] }[] } } } }) =>
          j.spec.template.spec.containers[0]?.args[0] === "evict",
      ),
    ).toBe(true);
    const ams = await json(["get", "oca", "ams-polder-1"]);
    const filled = ams.status.conditions.find((c: { type: string }) => c.type === "Filled");
    expect(filled.status).toBe("True");
    expect(ams.status.activePlacement).toBe(active.find((p) => p.spec.cluster === "ams-polder-1")?.metadata.name);
    expect(ams.status.servers.every((s: { tailTokens: number }) => s.tailTokens > 0)).toBe(true);
    // The sample Placements the demo ships were never applied here; nothing but the operator's exists.
    expect(((await json(["get", "placements"])) as Listed).items.every((p) => p.status?.phase !== "Pending")).toBe(
      true,
    );
  });

  it("replaces the Placement when the region's popularity changes, superseding the old one", async () => {
    const before = ((await json(["get", "oca", "ams-polder-1"])).status.activePlacement as string) ?? "";
    const pop = (await json(["get", "popularity", "eu-west"])) as { spec: { demand: Record<string, number> } };
    const demand = Object.fromEntries(Object.entries(pop.spec.demand).map(([id, n], i) => [id, i % 2 ? n * 3 : n]));
    await kubectlOk(
      ["apply", "--server-side", "-n", ns, "-f", "-"],
      JSON.stringify({
        apiVersion: "cdn.edgefleet.dev/v1alpha1",
        kind: "Popularity",
        metadata: { name: "eu-west" },
        spec: { region: "eu-west", catalogGeneration: "day-2", demand },
      }),
    );
    const after = await eventually(
      async () => {
        const a = (await json(["get", "oca", "ams-polder-1"])).status.activePlacement as string;
        return a && a !== before ? a : undefined;
      },
      "a new active placement for ams-polder-1",
      120_000,
    );
    const old = await json(["get", "placement", before]);
    expect(old.status.phase).toBe("Superseded");
    const next0 = await json(["get", "placement", after]);
    expect(old.status.supersededAt).toBe(next0.status.promotedAt);
    const next = await json(["get", "placement", after]);
    expect(next.spec.catalogGeneration.startsWith("day-2.")).toBe(true);
    expect(next.status.churn.previous).toBe(before);
  });

  it.each([
    {
      name: "rogue-image",
      edge: { image: "docker.io/attacker/edge:1" },
      reason: "ImageNotAllowed",
      field: "spec.edge.image",
    },
    {
      name: "rogue-path",
      edge: { contentPath: "/srv/edgefleet/content" },
      reason: "ContentPathOutsideRoot",
      field: "spec.edge.contentPath",
    },
  ])("a cluster whose $field is not allowed gets $reason, and neither a DaemonSet nor a fill Job", async (c) => {
    const base = clusters.find((x) => x.metadata.name === "ams-ix-1") as unknown as { spec: { edge: object } };
    const rogue = {
      ...base,
      metadata: { name: c.name },
      spec: { ...base.spec, edge: { ...base.spec.edge, ...c.edge } },
    };
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], JSON.stringify(rogue));
    const edge = await eventually(async () => {
      const o = await json(["get", "oca", c.name]);
      return (o.status?.conditions ?? []).find((x: { type: string }) => x.type === "EdgeConfigured");
    }, "EdgeConfigured");
    expect(edge).toMatchObject({ status: "False", reason: c.reason });
    expect(edge.message).toMatch(new RegExp(`^${c.field.replaceAll(".", "\\.")}: `));
    // Its Placement is planned (the ring is no risk) but never filled.
    const filled = await eventually(async () => {
      type WithConditions = { spec: { cluster: string }; status?: { conditions?: { type: string; reason: string }[] } };
      const l = (await json(["get", "placements"])) as { items: WithConditions[] };
      const p = l.items.find((i) => i.spec.cluster === c.name);
      return p?.status?.conditions?.find((x) => x.type === "Filled");
    }, "the rogue cluster's Placement refused its fill");
    expect(filled.reason).toBe(c.reason);
    expect((await kubectl(["get", "daemonset", `edge-${c.name}`, "-n", ns])).code).not.toBe(0);
    expect((await json(["get", "jobs", "-l", `cdn.edgefleet.dev/cluster=${c.name}`])).items).toEqual([]);
  });

  // The exceptions to "restricted", each needed by the data path (charts/edgefleet/README.md, "Pod Security"):
  // the pod as the operator made it, created (dry run) where Pod Security admission enforces a level.
  const jobChecks = {
    restricted: ["restricted volume types", "runAsNonRoot != true", "runAsUser=0", "unrestricted capabilities"],
    baseline: ["hostPath volumes"],
  };
  it.each([
    {
      name: "the edge DaemonSet",
      get: ["daemonset", "edge-ams-polder-1"],
      restricted: ["host namespaces", "hostPort", "restricted volume types"],
      baseline: ["host namespaces", "hostPath volumes", "hostPort"],
    },
    { name: "a fill Job", get: ["jobs", "-l", "cdn.edgefleet.dev/job=fill"], ...jobChecks },
    { name: "an evict Job", get: ["jobs", "-l", "cdn.edgefleet.dev/job=evict"], ...jobChecks },
  ])("$name's pod breaks restricted only by $restricted, baseline only by $baseline", async (c) => {
    const o = await json(["get", ...c.get]);
    const spec = (o.items?.[0] ?? o).spec.template.spec;
    for (const [level, namespace] of [
      ["restricted", pssNs],
      ["baseline", baselineNs],
    ] as const) {
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "pss-check", namespace }, spec };
      const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(pod));
      expect(r.stderr).toContain(`violates PodSecurity "${level}:latest"`);
      expect(podSecurityChecks(r.stderr), r.stderr).toEqual(c[level]);
    }
  });

  describe("Events (events.k8s.io/v1), once per occurrence, on the object they concern", () => {
    type Ev = {
      regarding: { kind: string; name: string; uid?: string };
      related?: { name: string };
      reason: string;
      type: string;
      note: string;
      series?: { count: number };
      reportingController: string;
    };
    const events = async () => ((await json(["get", "events.events.k8s.io"])) as { items: Ev[] }).items;
    const of = (all: Ev[], kind: string, name: string, reason?: string) =>
      all.filter((e) => e.regarding.kind === kind && e.regarding.name === name && (!reason || e.reason === reason));

    it("tells a Placement's lifecycle on it and on its cluster: planned, fill started, promoted, superseded", async () => {
      const all = await events();
      const l = (await json(["get", "placements"])) as Listed;
      const ams = l.items.filter((p) => p.spec.cluster === "ams-polder-1");
      const superseded = ams.find((p) => p.status?.phase === "Superseded");
      const active = ams.find((p) => p.status?.phase === "Active");
      if (!superseded || !active) throw new Error("the lifecycle tests above left no superseded and active placement");
      // Two Placements planned (day 1, day 2): two PlacementPlanned on the cluster, each naming its own.
      const planned = of(all, "OCACluster", "ams-polder-1", "PlacementPlanned");
      expect(planned.map((e) => e.related?.name).sort()).toEqual(
        [active, superseded].map((p) => p.metadata.name).sort(),
      );
      expect(planned[0]?.note).toMatch(
        /^planned placement ams-polder-1-[0-9a-f]{10} \(catalog .*, cutoff \d+, .* to fill\); fill window open until/,
      );
      for (const p of [superseded, active]) {
        const mine = of(all, "Placement", p.metadata.name);
        expect(
          mine.filter((e) => e.reason === "FillStarted"),
          p.metadata.name,
        ).toHaveLength(1);
        expect(
          mine.filter((e) => e.reason === "PlacementPromoted"),
          p.metadata.name,
        ).toHaveLength(1);
        expect(mine.find((e) => e.reason === "FillStarted")?.note).toMatch(/^fill Jobs created for 6 servers \(s01, /);
      }
      const gone = of(all, "Placement", superseded.metadata.name, "PlacementSuperseded");
      expect(gone.map((e) => e.related?.name)).toEqual([active.metadata.name]);
      const promoted = of(all, "OCACluster", "ams-polder-1", "PlacementPromoted");
      expect(promoted.map((e) => e.related?.name).sort()).toEqual(
        [active, superseded].map((p) => p.metadata.name).sort(),
      );
      const ours = all.filter((e) => e.regarding.kind === "OCACluster" || e.regarding.kind === "Placement");
      expect(ours.every((e) => e.reportingController === "cdn.edgefleet.dev/operator")).toBe(true);
      // A repeated reconcile adds nothing: no event of the lifecycle was counted twice.
      expect(ours.filter((e) => e.series).map((e) => `${e.regarding.name} ${e.reason}`)).toEqual([]);
    });

    it("shows them in kubectl describe", async () => {
      const out = await kubectlOk(["describe", "ocacluster", "ams-polder-1", "-n", ns]);
      expect(out).toMatch(/Events:[\s\S]*Normal\s+PlacementPlanned[\s\S]*cdn\.edgefleet\.dev\/operator/);
      expect(out).toMatch(/PlacementPromoted/);
    });

    it("warns once that a cluster's edge settings are refused (EdgeConfigInvalid)", async () => {
      const all = await events();
      for (const name of ["rogue-image", "rogue-path"]) {
        const e = of(all, "OCACluster", name, "EdgeConfigInvalid");
        expect(e.map((x) => x.type)).toEqual(["Warning"]);
      }
      expect(of(all, "OCACluster", "rogue-image", "EdgeConfigInvalid")[0]?.note).toMatch(
        /^ImageNotAllowed: spec\.edge\.image/,
      );
    });

    it("schedules the fill of a cluster whose window is closed (FillScheduled), once", async () => {
      const base = clusters.find((x) => x.metadata.name === "ams-ix-1") as unknown as { spec: { fill: object } };
      const hhmm = (ms: number) => new Date(Date.now() + ms).toISOString().slice(11, 16);
      const window = { start: hhmm(3 * 3600_000), end: hhmm(4 * 3600_000), timeZone: "Europe/Amsterdam" };
      const later = {
        ...base,
        metadata: { name: "later-1" },
        spec: { ...base.spec, fill: { ...base.spec.fill, window } },
      };
      await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], JSON.stringify(later));
      const scheduled = await eventually(async () => {
        const p = ((await json(["get", "placements"])) as Listed).items.find((i) => i.spec.cluster === "later-1");
        const e = p ? of(await events(), "Placement", p.metadata.name, "FillScheduled") : [];
        return e.length > 0 ? e : undefined;
      }, "FillScheduled on later-1's Placement");
      expect(scheduled).toHaveLength(1);
      expect(scheduled[0]?.note).toContain(`window opens at ${window.start} Europe/Amsterdam`);
    });

    it("warns once that a Title is left out (TitleInvalid)", async () => {
      const t = fleet.titles[0] as unknown as { metadata: { name: string }; spec: { id: string } };
      const copy = {
        ...t,
        metadata: { name: `${t.metadata.name}-copy` },
        spec: { ...t.spec, id: `${t.spec.id}-copy` },
      };
      await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], JSON.stringify(copy));
      const e = await eventually(async () => {
        const x = of(await events(), "Title", copy.metadata.name, "TitleInvalid");
        return x.length > 0 ? x : undefined;
      }, "TitleInvalid on the copy");
      expect(e.map((x) => x.type)).toEqual(["Warning"]);
      expect(e[0]?.note).toMatch(/^DuplicatePath: /);
      expect(of(await events(), "Title", t.metadata.name, "TitleInvalid")).toEqual([]);
    });

    it("warns when a server's heartbeat goes stale and says when it recovers, once each", async () => {
      const beat = (now: Date, leaseDurationSeconds: number) =>
        heartbeatLease({
          namespace: ns,
          cluster: "ams-polder-1",
          server: "s01",
          load: { connections: 0, bytesPerSec: 0, diskUsedBytes: 0, diskTotalBytes: 1, ktls: "active" },
          now,
          leaseDurationSeconds,
        });
      const health = async () =>
        ((await json(["get", "oca", "ams-polder-1"])).status?.servers ?? []).find(
          (s: { name: string }) => s.name === "s01",
        )?.health as string | undefined;
      await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(beat(new Date(), 2)));
      await eventually(async () => ((await health()) === "Healthy" ? true : undefined), "s01 Healthy");
      await eventually(async () => ((await health()) === "Stale" ? true : undefined), "s01 Stale after its 2 s Lease");
      // The recovering beat holds for the rest of the test: a second 2 s Lease would lapse again during the
      // pokes below on a slow machine, and its second ServerUnhealthy would be right, not a repeat.
      await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(beat(new Date(), 600)));
      await eventually(async () => ((await health()) === "Healthy" ? true : undefined), "s01 Healthy again");
      // Reconciles again and again (annotations wake the controller) record nothing more.
      for (let i = 0; i < 5; i++)
        await kubectlOk(["annotate", "oca", "ams-polder-1", "-n", ns, `poke=${i}`, "--overwrite"]);
      await new Promise((r) => setTimeout(r, 1000));
      const all = await events();
      const down = of(all, "OCACluster", "ams-polder-1", "ServerUnhealthy");
      const up = of(all, "OCACluster", "ams-polder-1", "ServerRecovered");
      expect(down.map((e) => [e.type, e.series?.count])).toEqual([["Warning", undefined]]);
      expect(down[0]?.note).toMatch(/^server s01 heartbeat stale/);
      expect(up.map((e) => [e.type, e.series?.count])).toEqual([["Normal", undefined]]);
      expect(of(all, "OCACluster", "ams-polder-1", "PlacementPlanned")).toHaveLength(2);
    });
  });
});

/** The checks a Pod Security rejection names: `violates PodSecurity "restricted:latest": a (…), b (…)` → [a, b], sorted. */
function podSecurityChecks(stderr: string): string[] {
  const m = /violates PodSecurity "[^"]+": (.*)$/m.exec(stderr);
  if (!m?.[1]) return [];
  const out: string[] = [];
  let depth = 0;
  let name = "";
  for (const ch of m[1]) {
    if (ch === "(" && depth++ === 0) out.push(name.replace(/^,\s*/, "").trim());
    else if (ch === ")") depth--;
    else if (depth === 0) name = ch === "," ? "" : name + ch;
  }
  return out.sort();
}
