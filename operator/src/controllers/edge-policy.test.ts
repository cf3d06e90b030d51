import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type Condition, Kinds, mustParse } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { at, fakeCaches, keptEvents } from "../runtime/testing.js";
import { fixedLinkKeys } from "../steering/link-keys.js";
import { makeEdgeReconciler } from "./edge.js";
import { contentRootProblem, defaultEdgePolicy, edgePolicyViolation, imageAllowed } from "./edge-policy.js";
import { makeFillReconciler } from "./fill.js";
import { defaultFillPolicy } from "./fill-job.js";

describe("imageAllowed", () => {
  const allowed = ["ghcr.io/edgefleet/edgefleet-edge", "registry.local:5000/cdn"];
  it.each([
    { image: "ghcr.io/edgefleet/edgefleet-edge", want: true },
    { image: "ghcr.io/edgefleet/edgefleet-edge:0.1.0", want: true },
    { image: "ghcr.io/edgefleet/edgefleet-edge@sha256:0123", want: true },
    { image: "ghcr.io/edgefleet/edgefleet-edge:0.1.0@sha256:0123", want: true },
    { image: "registry.local:5000/cdn/edge:1", want: true },
    { image: "ghcr.io/edgefleet/edgefleet-edge-debug:1", want: false },
    { image: "ghcr.io/edgefleet/edgefleet", want: false },
    { image: "evil.example/ghcr.io/edgefleet/edgefleet-edge", want: false },
    { image: "registry.local:50001/cdn/edge:1", want: false },
    { image: "registry.local:5000/cdnx:1", want: false },
    { image: "busybox", want: false },
  ])("$image → $want", ({ image, want }) => {
    expect(imageAllowed(image, allowed)).toBe(want);
  });

  it("a registry with a port allows its repositories, not another port's", () => {
    expect(imageAllowed("localhost:5000/x:1", ["localhost:5000"])).toBe(true);
    expect(imageAllowed("localhost:50001/x:1", ["localhost:5000"])).toBe(false);
  });
});

describe("edgePolicyViolation", () => {
  const edge = mustParse("OCACluster", sample("OCACluster", "ams-polder-1")).spec.edge;
  it.each([
    { name: "the sample (project image, default root)", over: {}, want: undefined },
    { name: "another image", over: { image: "docker.io/library/nginx:1" }, want: "ImageNotAllowed" },
    { name: "outside the root", over: { contentPath: "/srv/edgefleet/content" }, want: "ContentPathOutsideRoot" },
  ])("$name → $want", ({ over, want }) => {
    const v = edgePolicyViolation({ ...edge, ...over }, defaultEdgePolicy);
    expect(v?.reason).toBe(want);
    if (want === "ImageNotAllowed") expect(v?.message).toMatch(/^spec\.edge\.image: /);
    if (want === "ContentPathOutsideRoot") expect(v?.message).toMatch(/^spec\.edge\.contentPath: /);
  });

  it("a configured root takes paths inside it", () => {
    const policy = { ...defaultEdgePolicy, contentRoot: "/srv/edgefleet" };
    expect(edgePolicyViolation({ ...edge, contentPath: "/srv/edgefleet/content" }, policy)).toBeUndefined();
    expect(edgePolicyViolation(edge, policy)?.reason).toBe("ContentPathOutsideRoot");
  });

  it.each([
    { root: "/var/lib/edgefleet", ok: true },
    { root: "/srv/edgefleet/disk1", ok: true },
    { root: "/", ok: false },
    { root: "/etc", ok: false },
    { root: "/var/lib/edgefleet/", ok: false },
    { root: "/srv/../edgefleet", ok: false },
  ])("content root $root → $ok", ({ root, ok }) => {
    expect(contentRootProblem(root) === undefined).toBe(ok);
  });
});

describe("a cluster naming an image not allowed", () => {
  const cluster = at(sample("OCACluster", "ams-polder-1"), "ns", "1", 3);
  (cluster.spec as { edge: { image: string } }).edge.image = "docker.io/attacker/edge:1";
  const placement = at(sample("Placement", "ams-polder-1-2026-08-14"), "ns", "2", 1);
  const ctx = { log: pino({ level: "silent" }), signal: new AbortController().signal };

  function api() {
    const written: KubeObject[] = [];
    const kube = {
      apply: async <T>(_k: unknown, o: KubeObject) => {
        written.push(o);
        return o as T;
      },
      create: async <T>(_k: unknown, o: KubeObject) => {
        written.push(o);
        return o as T;
      },
      delete: async () => {},
      list: async <T>() => ({ items: [] as T[], resourceVersion: "1" }),
    };
    const caches = fakeCaches();
    caches.of(Kinds.OCACluster).upsert(cluster);
    caches.of(Kinds.Placement).upsert(placement);
    return { written, kube, caches };
  }
  const conditions = (o: KubeObject | undefined) =>
    ((o?.status ?? {}) as { conditions?: Condition[] }).conditions ?? [];

  it("gets EdgeConfigured=False naming spec.edge.image, and no ConfigMap or DaemonSet", async () => {
    const { written, kube, caches } = api();
    const options = { agentServiceAccount: "a", policy: defaultEdgePolicy, linkKeys: fixedLinkKeys(undefined) };
    const events = keptEvents();
    const clusters = caches.of(Kinds.OCACluster);
    const r = makeEdgeReconciler({ kube, clusters, options, now: () => new Date(0), events });
    await r.reconcile({ namespace: "ns", name: "ams-polder-1" }, ctx);
    expect(written.map((o) => o.kind)).toEqual(["OCACluster"]);
    expect(events.events.map((e) => [e.type, e.reason, e.regarding.name])).toEqual([
      ["Warning", "EdgeConfigInvalid", "ams-polder-1"],
    ]);
    expect(events.events[0]?.note).toContain("spec.edge.image");
    expect(conditions(written[0])).toEqual([
      expect.objectContaining({
        type: "EdgeConfigured",
        status: "False",
        reason: "ImageNotAllowed",
        observedGeneration: 3,
      }),
    ]);
    expect(conditions(written[0])[0]?.message).toContain('spec.edge.image: "docker.io/attacker/edge:1"');
  });

  it("gets no fill Job: its Placement says Filled=False with the reason", async () => {
    const { written, kube, caches } = api();
    const r = makeFillReconciler({
      events: keptEvents(),
      kube,
      placements: caches.of(Kinds.Placement),
      clusters: caches.of(Kinds.OCACluster),
      jobs: caches.of(Kinds.Job),
      now: () => new Date("2026-08-14T02:30:00Z"),
      policy: defaultEdgePolicy,
      agentServiceAccount: "a",
      ...defaultFillPolicy,
    });
    await r.reconcile({ namespace: "ns", name: "ams-polder-1-2026-08-14" }, ctx);
    expect(written.filter((o) => o.kind === "Job")).toEqual([]);
    expect(conditions(written.find((o) => o.kind === "Placement"))).toContainEqual(
      expect.objectContaining({ type: "Filled", status: "False", reason: "ImageNotAllowed" }),
    );
  });
});
