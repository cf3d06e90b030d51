/** What the e2e script and the integration test give the cycle: kubectl, the operator in-process, a node. */
import { execFile } from "node:child_process";
import pino from "pino";
import { startOperator } from "../../operator/src/operator.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import type { Exec } from "./cycle.js";

/** kubectl against one cluster; never throws on a non-zero exit. */
export function execIn(kubectl: string, kubeconfig: string): Exec {
  return (args, input) =>
    new Promise((resolve) => {
      const child = execFile(
        kubectl,
        ["--kubeconfig", kubeconfig, ...args],
        { maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
}

/** The operator in this process, watching one namespace (its Lease there too), as the integration tests run it. */
export function inProcessOperator(kubeconfig: string): (namespace: string) => Promise<() => Promise<void>> {
  return async (namespace) => {
    const stop = new AbortController();
    const kube = await Kube.connect(kubeconfig);
    const op = await startOperator(
      {
        kube,
        log: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
        namespace,
        identity: "pulumi-e2e",
        leaseNamespace: namespace,
        healthPort: 0,
        healthHost: "127.0.0.1",
      },
      stop.signal,
    );
    let stopped: Promise<void> | undefined;
    return () => {
      stopped ??= (async () => {
        stop.abort();
        await op.done;
      })();
      return stopped;
    };
  };
}

/**
 * A node for the chart's pods while `f` runs: kwok (managing every node of the local control plane) makes
 * its pods Running and Ready, so the operator and steering Deployments become available and `up`, which
 * waits for them, finishes.
 */
export async function withFakeNode<T>(kubectl: Exec, name: string, f: () => Promise<T>): Promise<T> {
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "edgefleet.dev/test": "pulumi" } },
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
      capacity: { cpu: "32", memory: "256Gi", pods: "110" },
    },
  };
  const r = await kubectl(["apply", "-f", "-"], JSON.stringify(node));
  if (r.code !== 0) throw new Error(`kubectl apply node ${name}: ${r.stderr.trim()}`);
  try {
    return await f();
  } finally {
    await kubectl(["delete", "node", name, "--wait=false"]);
  }
}
