import { describe, expect, it } from "vitest";
import type { OCACluster, Placement } from "../api/index.js";
import { decideFill, type FillJob, type FillObservation, fillJobManifest, fillJobName } from "./fill-plan.js";

const cluster = {
  apiVersion: "cdn.edgefleet.dev/v1alpha1",
  kind: "OCACluster",
  metadata: { name: "c1" },
  spec: {
    servers: [
      { name: "s1", node: "n1", class: "x", ipv4: "192.0.2.1" },
      { name: "s2", node: "n2", class: "x", ipv4: "192.0.2.2" },
    ],
    fill: { window: { start: "02:00", end: "06:00", timeZone: "UTC" } },
  },
} as unknown as OCACluster;

const placement = (name: string, phase: NonNullable<Placement["status"]>["phase"], created: string): Placement =>
  ({
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name, creationTimestamp: created, generation: 1 },
    spec: {
      cluster: "c1",
      catalogGeneration: "g",
      cutoff: 0,
      servers: [
        { name: "s1", headTokens: 0, tailTokens: 10 },
        { name: "s2", headTokens: 0, tailTokens: 10 },
      ],
    },
    status: { phase },
  }) as Placement;

const inWindow = new Date("2026-11-26T03:00:00Z");
const outside = new Date("2026-11-26T12:00:00Z");
const job = (server: string, state: FillJob["state"], mode: FillJob["mode"] = "fill"): FillJob => ({
  name: fillJobName("p2", server, mode),
  server,
  mode,
  state,
});
const observe = (o: Partial<FillObservation>): FillObservation => ({
  placement: placement("p2", "Pending", "2026-11-26T01:00:00Z"),
  cluster,
  siblings: [],
  jobs: [],
  now: inWindow,
  ...o,
});

describe("decideFill", () => {
  it.each([
    {
      name: "Pending outside the window waits",
      o: observe({ now: outside }),
      phase: "Pending",
      jobs: 0,
      reason: "WaitingForWindow",
    },
    {
      name: "Pending inside the window starts one Job per server",
      o: observe({}),
      phase: "Filling",
      jobs: 2,
      reason: "Filling",
    },
    {
      name: "Filling with one Job left keeps filling",
      o: observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        jobs: [job("s1", "Complete"), job("s2", "Running")],
      }),
      phase: "Filling",
      jobs: 0,
      reason: "Filling",
    },
    {
      name: "Pending overtaken by a newer Placement is superseded",
      o: observe({ siblings: [placement("p3", "Pending", "2026-11-26T02:00:00Z")] }),
      phase: "Superseded",
      jobs: 0,
      reason: "Superseded",
    },
  ])("$name", ({ o, phase, jobs, reason }) => {
    const d = decideFill(o);
    expect(d.status.phase).toBe(phase);
    expect(d.createJobs).toHaveLength(jobs);
    expect(d.status.conditions?.find((c) => c.type === "Filled")?.reason).toBe(reason);
  });

  it("runs each server's Job on its node, bounded by the window's end", () => {
    const d = decideFill(observe({}));
    expect(d.createJobs.map((j) => [j.server, j.node])).toEqual([
      ["s1", "n1"],
      ["s2", "n2"],
    ]);
    expect(d.createJobs[0]?.activeDeadlineSeconds).toBe(3 * 3600);
  });

  it("becomes Active when every Job completed and supersedes the previous Active", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        siblings: [placement("p1", "Active", "2026-11-25T01:00:00Z")],
        jobs: [job("s1", "Complete"), job("s2", "Complete")],
      }),
    );
    expect(d.status.phase).toBe("Active");
    expect(d.supersede).toEqual(["p1"]);
  });

  it("deletes failed Jobs after the window so the next window retries them", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        now: outside,
        jobs: [job("s1", "Complete"), job("s2", "Failed")],
      }),
    );
    expect(d.status.phase).toBe("Filling");
    expect(d.deleteJobs).toEqual([fillJobName("p2", "s2")]);
    expect(d.status.conditions?.find((c) => c.type === "Filled")?.message).toContain("failed: s2");
  });

  it("once Active, runs one evict Job per server, once", () => {
    const active = placement("p2", "Active", "2026-11-26T01:00:00Z");
    const first = decideFill(observe({ placement: active, jobs: [job("s1", "Complete"), job("s2", "Complete")] }));
    expect(first.createJobs.map((j) => [j.mode, j.server])).toEqual([
      ["evict", "s1"],
      ["evict", "s2"],
    ]);
    const again = decideFill(
      observe({ placement: active, jobs: [job("s1", "Complete", "evict"), job("s2", "Running", "evict")] }),
    );
    expect(again.createJobs).toEqual([]);
  });

  it("supersedes a Filling placement when a newer one exists (its agents would refuse the moved catalog)", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        siblings: [placement("p3", "Pending", "2026-11-26T02:00:00Z")],
      }),
    );
    expect(d.status.phase).toBe("Superseded");
  });

  it("keeps Job names within 63 characters", () => {
    expect(fillJobName("p".repeat(200), "s".repeat(63)).length).toBeLessThanOrEqual(63);
  });
});

type JobShape = {
  metadata: { labels: Record<string, string> };
  spec: {
    template: {
      spec: {
        nodeName: string;
        serviceAccountName: string;
        containers: { image: string; args: string[] }[];
        volumes: { hostPath?: { path: string }; secret?: { secretName: string } }[];
      };
    };
  };
};

describe("fillJobManifest", () => {
  const edge = { image: "edge:1", contentPath: "/srv/content" };
  const c = { ...cluster, spec: { ...cluster.spec, edge } } as OCACluster;
  const p = { ...placement("p2", "Pending", "2026-11-26T01:00:00Z"), metadata: { name: "p2", namespace: "ns" } };
  const owner = { apiVersion: "cdn.edgefleet.dev/v1alpha1", kind: "Placement", name: "p2", uid: "u", controller: true };
  const options = { agentServiceAccount: "agent", signingSecret: "signing", owner };
  const manifest = (mode: "fill" | "evict") =>
    fillJobManifest(
      { name: fillJobName("p2", "s1", mode), mode, server: "s1", node: "n1", activeDeadlineSeconds: 600 },
      p,
      c,
      options,
    ) as unknown as JobShape;

  it.each([
    {
      mode: "fill" as const,
      args: ["fill", "--placement", "ns/p2", "--server", "s1", "--secret", "/etc/edgefleet/signing/key"],
    },
    { mode: "evict" as const, args: ["evict", "--placement", "ns/p2", "--server", "s1"] },
  ])("a $mode Job runs the agent on the server's node, owned by the Placement", ({ mode, args }) => {
    const j = manifest(mode);
    expect(j.metadata).toMatchObject({
      name: fillJobName("p2", "s1", mode),
      namespace: "ns",
      ownerReferences: [owner],
    });
    expect(j.metadata.labels).toEqual({
      "cdn.edgefleet.dev/placement": "p2",
      "cdn.edgefleet.dev/cluster": "c1",
      "cdn.edgefleet.dev/server": "s1",
      "cdn.edgefleet.dev/job": mode,
    });
    const pod = j.spec.template.spec;
    expect(pod).toMatchObject({ nodeName: "n1", serviceAccountName: "agent" });
    expect(pod.containers[0]).toMatchObject({ image: "edge:1", args });
    expect(pod.volumes.map((v) => v.hostPath?.path ?? v.secret?.secretName)).toEqual(["/srv/content", "signing"]);
  });
});
