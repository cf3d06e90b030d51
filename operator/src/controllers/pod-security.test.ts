/**
 * The security contexts the pure planners put on the pods the operator creates: the edge DaemonSet
 * (edge-plan.ts) and the fill and evict Jobs (fill-plan.ts). test/integration/operator.test.ts checks
 * the same pods against the API server's Pod Security admission.
 */
import { describe, expect, it } from "vitest";
import { mustParse, type OCACluster, type Placement } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { edgeObjects } from "./edge-plan.js";
import { fillJobManifest, fillJobName, type JobMode } from "./fill-job.js";

type Container = {
  name: string;
  args?: string[];
  command?: string[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodSpec = {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  initContainers: Container[];
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string }; projected?: object }[];
};
const podOf = (o: KubeObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;

const cluster = mustParse("OCACluster", {
  ...sample("OCACluster", "ams-polder-1"),
  metadata: { name: "c", namespace: "ns" },
});
const withPorts = (httpPort: number, httpsPort: number): OCACluster => ({
  ...cluster,
  spec: { ...cluster.spec, edge: { ...cluster.spec.edge, httpPort, httpsPort } },
});
const daemonSet = (c: OCACluster) => podOf(edgeObjects(c, { agentServiceAccount: "a" }, []).daemonSet);
const placement = mustParse("Placement", {
  ...sample("Placement", "ams-polder-1-2026-08-14"),
  metadata: { name: "p", namespace: "ns" },
}) as Placement;
const job = (mode: JobMode) =>
  podOf(
    fillJobManifest(
      { name: fillJobName("p", "s01", mode), mode, server: "s01", node: "n1", activeDeadlineSeconds: 600 },
      placement,
      cluster,
      {
        agentServiceAccount: "a",
        evictDelaySeconds: 0,
        jobTtlSeconds: 60,
        owner: { apiVersion: "v", kind: "Placement", name: "p", uid: "u" },
      },
    ),
  );

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
};
const edgePod = {
  runAsNonRoot: true,
  runAsUser: 101,
  runAsGroup: 101,
  fsGroup: 101,
  seccompProfile: { type: "RuntimeDefault" },
};
const byName = (cs: Container[], name: string) => cs.find((c) => c.name === name);
const tokenHolders = (p: PodSpec) =>
  [...p.initContainers, ...p.containers]
    .filter((c) => c.volumeMounts?.some((m) => m.name === "kube-api-access"))
    .map((c) => c.name);

describe("the edge DaemonSet's pods", () => {
  it("run as the edge user (101), non-root, RuntimeDefault seccomp; init and agent fully restricted", () => {
    const pod = daemonSet(cluster);
    expect(pod.securityContext).toEqual(edgePod);
    expect(byName(pod.initContainers, "init")?.securityContext).toEqual(restricted);
    expect(byName(pod.containers, "agent")?.securityContext).toEqual(restricted);
  });

  it.each([
    { name: "80/443 (the default)", ports: [80, 443] },
    { name: "8080/8443", ports: [8080, 8443] },
  ])("nginx on $name: restricted, NET_BIND_SERVICE its one capability, exec'd directly", ({ ports }) => {
    const nginx = byName(daemonSet(withPorts(ports[0] ?? 0, ports[1] ?? 0)).containers, "nginx");
    expect(nginx?.securityContext).toEqual({
      ...restricted,
      capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
    });
    // No shell in between: its exec would drop the capability the nginx binary's file capability keeps.
    expect(nginx?.command).toEqual(["nginx", "-c", "/run/edgefleet/nginx.conf", "-e", "stderr", "-g", "daemon off;"]);
    // Its run directory is the writable emptyDir; content, TLS and the cluster's link keys are read-only mounts.
    expect(nginx?.volumeMounts?.map((m) => [m.name, m.readOnly ?? false])).toEqual([
      ["run", false],
      ["content", true],
      ["tls", true],
      ["link-keys", true],
    ]);
  });

  it("only the agent holds the API token (nginx faces the internet)", () => {
    const pod = daemonSet(cluster);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(tokenHolders(pod)).toEqual(["agent"]);
  });

  it("nginx.conf names no worker user: master and workers are the edge user", () => {
    const cm = edgeObjects(cluster, { agentServiceAccount: "a" }, []).configMap;
    expect(JSON.parse((cm.data as { "edge.yaml": string })["edge.yaml"]).workerUser).toBeUndefined();
  });
});

describe.each(["fill", "evict"] as const)("the %s Job's pod", (mode) => {
  it("runs the agent as the edge user, fully restricted, with the content directory writable", () => {
    const pod = job(mode);
    expect(pod.securityContext).toEqual(edgePod);
    const agent = byName(pod.containers, mode);
    expect(agent?.securityContext).toEqual(restricted);
    expect(agent?.volumeMounts?.find((m) => m.name === "content")).toEqual({
      name: "content",
      mountPath: "/var/lib/edgefleet/content",
    });
  });

  it("first hands the content directory to the edge user: root with CHOWN alone, that one mount, no token", () => {
    const pod = job(mode);
    expect(pod.initContainers).toHaveLength(1);
    const owner = pod.initContainers[0];
    expect(owner).toMatchObject({
      name: "content-owner",
      args: ["own-content", "--content", "/var/lib/edgefleet/content"],
    });
    expect(owner?.securityContext).toEqual({
      ...restricted,
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      capabilities: { drop: ["ALL"], add: ["CHOWN"] },
    });
    expect(owner?.volumeMounts?.map((m) => m.name)).toEqual(["content"]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(tokenHolders(pod)).toEqual([mode]);
  });
});
