import { describe, expect, it } from "vitest";
import type { OCACluster, Placement } from "../api/index.js";
import { fillJobManifest, fillJobName } from "./fill-job.js";

const cluster = {
  apiVersion: "cdn.edgefleet.dev/v1alpha1",
  kind: "OCACluster",
  metadata: { name: "c1" },
  spec: {
    servers: [{ name: "s1", node: "n1", class: "x", ipv4: "192.0.2.1" }],
    fill: { window: { start: "02:00", end: "06:00", timeZone: "UTC" } },
  },
} as unknown as OCACluster;

const placement = (name: string): Placement =>
  ({
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name, generation: 1 },
    spec: {
      cluster: "c1",
      catalogGeneration: "g",
      cutoff: 0,
      servers: [{ name: "s1", headTokens: 0, tailTokens: 10 }],
    },
  }) as Placement;

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

/** What both modes are given: the Placement, the server, the protection time and where to report. */
const common = (mode: string) => [
  mode,
  "--placement",
  "ns/p2",
  "--server",
  "s1",
  "--grace-seconds",
  "21600",
  "--report-file",
  "/dev/termination-log",
];

describe("fillJobManifest", () => {
  const edge = { image: "edge:1", contentPath: "/srv/content" };
  const c = { ...cluster, spec: { ...cluster.spec, edge } } as OCACluster;
  const p = { ...placement("p2"), metadata: { name: "p2", namespace: "ns" } };
  const owner = { apiVersion: "cdn.edgefleet.dev/v1alpha1", kind: "Placement", name: "p2", uid: "u", controller: true };
  const options = {
    agentServiceAccount: "agent",
    evictDelaySeconds: 21600,
    jobTtlSeconds: 86400,
    owner,
  };
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
      args: [...common("fill"), "--link-keys", "/etc/edgefleet/link-keys"],
      volumes: ["/srv/content", "edge-c1-link-keys"],
    },
    // evict asks no peer: it holds no link key.
    { mode: "evict" as const, args: common("evict"), volumes: ["/srv/content"] },
  ])("a $mode Job runs the agent on the server's node, owned by the Placement", ({ mode, args, volumes }) => {
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
    expect(pod.volumes.flatMap((v) => v.hostPath?.path ?? v.secret?.secretName ?? [])).toEqual(volumes);
  });

  it("finished Jobs leave after their TTL; a refusal or a full disk fails the Job without retries", () => {
    const j = manifest("fill") as unknown as {
      spec: {
        ttlSecondsAfterFinished: number;
        podFailurePolicy: { rules: { action: string; onExitCodes?: { containerName: string; values: number[] } }[] };
        template: { spec: { containers: { terminationMessagePath: string; terminationMessagePolicy: string }[] } };
      };
    };
    expect(j.spec.ttlSecondsAfterFinished).toBe(86400);
    expect(j.spec.podFailurePolicy.rules[0]).toEqual({
      action: "FailJob",
      onExitCodes: { containerName: "fill", operator: "In", values: [2, 4] },
    });
    expect(j.spec.template.spec.containers[0]).toMatchObject({
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "FallbackToLogsOnError",
    });
  });

  it("keeps Job names within 63 characters", () => {
    expect(fillJobName("p".repeat(200), "s".repeat(63)).length).toBeLessThanOrEqual(63);
  });
});
