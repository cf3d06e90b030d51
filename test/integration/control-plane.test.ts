/**
 * Proves the control plane is real: the scheduler places a DaemonSet's pods on kwok nodes, kwok runs
 * them, the Job controller sees its Job complete, and the garbage collector deletes orphaned pods.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, kubectlOk } from "./kube.js";

const ns = `cp-${Date.now().toString(36)}`;
const nodes = ["cp-node-a", "cp-node-b", "cp-node-c"].map((n) => `${ns}-${n}`);

// A node kwok manages (the annotation) and that ordinary pods may land on.
const kwokNode = (name: string) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    annotations: { "kwok.x-k8s.io/node": "fake" },
    labels: { "kubernetes.io/hostname": name, "edgefleet.dev/test": ns, type: "kwok" },
  },
  spec: { taints: [{ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }] },
  status: {
    allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
    capacity: { cpu: "32", memory: "256Gi", pods: "110" },
  },
});

const tolerateKwok = [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }];
const onTestNodes = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: "edgefleet.dev/test", operator: "In", values: [ns] }] }],
    },
  },
};

const daemonSet = {
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "edge", namespace: ns },
  spec: {
    selector: { matchLabels: { app: "edge" } },
    template: {
      metadata: { labels: { app: "edge" } },
      spec: {
        tolerations: tolerateKwok,
        affinity: onTestNodes,
        containers: [{ name: "nginx", image: "nginx:stable" }],
      },
    },
  },
};

const job = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "fill", namespace: ns },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: "Never",
        tolerations: tolerateKwok,
        affinity: onTestNodes,
        containers: [{ name: "fill", image: "edgefleet/node:dev", args: ["fill"] }],
      },
    },
  },
};

type PodList = { items: { spec: { nodeName?: string }; status: { phase?: string } }[] };

async function pods(selector: string): Promise<PodList["items"]> {
  const out = await kubectlOk(["get", "pods", "-n", ns, "-l", selector, "-o", "json"]);
  return (JSON.parse(out) as PodList).items;
}

describe("local control plane", () => {
  beforeAll(async () => {
    await kubectlOk(["create", "namespace", ns]);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes.map(kwokNode) }),
    );
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    await kubectl(["delete", "node", ...nodes, "--wait=false"]);
  });

  it("kwok nodes become Ready", async () => {
    for (const n of nodes) {
      await eventually(async () => {
        const r = await kubectl(["get", "node", n, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"]);
        return r.stdout === "True" ? true : undefined;
      }, `node ${n} Ready`);
    }
  });

  it("the scheduler places one DaemonSet pod per node and they run", async () => {
    await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(daemonSet));
    const running = await eventually(async () => {
      const ps = await pods("app=edge");
      return ps.length === nodes.length && ps.every((p) => p.status.phase === "Running") ? ps : undefined;
    }, "3 running DaemonSet pods");
    expect(running.map((p) => p.spec.nodeName).sort()).toEqual([...nodes].sort());
  });

  it("a Job's pod runs to completion and the Job completes", async () => {
    await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(job));
    await eventually(async () => {
      const r = await kubectl([
        "get",
        "job",
        "fill",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Complete')].status}",
      ]);
      return r.stdout === "True" ? true : undefined;
    }, "Job Complete");
    const [pod] = await pods("batch.kubernetes.io/job-name=fill");
    expect(pod?.status.phase).toBe("Succeeded");
    expect(nodes).toContain(pod?.spec.nodeName);
  });

  it("deleting the DaemonSet garbage-collects its pods", async () => {
    await kubectlOk(["delete", "daemonset", "edge", "-n", ns, "--cascade=background"]);
    await eventually(async () => ((await pods("app=edge")).length === 0 ? true : undefined), "DaemonSet pods deleted");
  });
});
