/**
 * Starts one local control plane for the whole integration run and stops it afterwards, or uses the
 * cluster KUBECONFIG points at when EDGEFLEET_USE_KUBECONFIG=1 (kind, say). Tests read the path with
 * `inject("kubeconfig")` (see ./kube.ts).
 */
import type { TestProject } from "vitest/node";
import { clusterDown, clusterUp, ensureBinaries } from "../../hack/local-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    /** The local control plane's name; "" when the tests run against KUBECONFIG's cluster. */
    clusterName: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { kubectl } = await ensureBinaries(["kubectl"]);
  project.provide("kubectl", kubectl);
  const external = process.env.EDGEFLEET_USE_KUBECONFIG === "1" ? process.env.KUBECONFIG : undefined;
  if (external) {
    project.provide("kubeconfig", external);
    project.provide("clusterName", "");
    return async () => {};
  }
  const name = `edgefleet-test-${process.pid}`;
  const t0 = performance.now();
  const cluster = await clusterUp(name);
  console.error(
    `integration: cluster ${name} ready in ${((performance.now() - t0) / 1000).toFixed(1)}s (logs: ${cluster.logs})`,
  );
  project.provide("kubeconfig", cluster.kubeconfig);
  project.provide("clusterName", name);
  return () => clusterDown(name);
}
