/**
 * The Job that runs one server's fill or evict (the edge agent, nodes/src/fill), and its name. Pure.
 */
import { createHash } from "node:crypto";
import {
  agentExit,
  clusterLabel,
  jobLabel,
  type OCACluster,
  type Placement,
  placementLabel,
  serverLabel,
} from "../api/index.js";
import type { KubeObject, ObjectMeta } from "../runtime/kube.js";
import { linkKeysDir, linkKeysMount, linkKeysVolume } from "./edge-plan.js";
import {
  apiAccessMount,
  apiAccessVolume,
  contentOwnerContainer,
  edgePodSecurity,
  restrictedContainer,
} from "./pod-security.js";

export { jobLabel as jobModeLabel, placementLabel } from "../api/index.js";

export type JobMode = "fill" | "evict";

export type JobToCreate = Readonly<{
  name: string;
  mode: JobMode;
  server: string;
  node: string;
  activeDeadlineSeconds: number;
}>;

/** Who runs fill Jobs. They sign fetches from peer servers with the cluster's link keys (edge-plan.ts). */
export type FillJobOptions = Readonly<{
  /** The ServiceAccount fill pods run as (it must be able to read the API group's objects). */
  agentServiceAccount: string;
}>;

/** How the lifecycle is timed and tidied: the operator's flags. */
export type FillPolicy = Readonly<{
  /**
   * How long after a Placement's promotion its evict Jobs start, and how long the files of a
   * superseded Placement stay protected: at least the lifetime of signed URLs (steering's
   * urlTtlSeconds), which still point at the old servers until they expire.
   */
  evictDelaySeconds: number;
  /** Superseded Placements kept per cluster (for `kubectl get placements`); older ones are deleted. */
  keepSuperseded: number;
  /** ttlSecondsAfterFinished of fill and evict Jobs: the API server deletes them (and their pods) then. */
  jobTtlSeconds: number;
  /** A failed Job is run again this long after it failed (inside the window, for fills). */
  retryFailedAfterSeconds: number;
}>;

export const defaultFillPolicy: FillPolicy = {
  evictDelaySeconds: 6 * 3600,
  keepSuperseded: 3,
  jobTtlSeconds: 24 * 3600,
  retryFailedAfterSeconds: 600,
};

/** The policy with `p`'s values where it gives them, the defaults elsewhere. */
export function fillPolicy(p: Readonly<{ [K in keyof FillPolicy]?: number | undefined }> = {}): FillPolicy {
  return {
    evictDelaySeconds: p.evictDelaySeconds ?? defaultFillPolicy.evictDelaySeconds,
    keepSuperseded: p.keepSuperseded ?? defaultFillPolicy.keepSuperseded,
    jobTtlSeconds: p.jobTtlSeconds ?? defaultFillPolicy.jobTtlSeconds,
    retryFailedAfterSeconds: p.retryFailedAfterSeconds ?? defaultFillPolicy.retryFailedAfterSeconds,
  };
}

/** Where the agent leaves its report: the container's termination message (terminationMessagePath). */
export const reportPath = "/dev/termination-log";

/**
 * The Job that runs one server's fill or evict: pinned to the server's node, the content disk mounted
 * at the same path as nginx serves it, the agent image of the cluster's edge, as the edge user with a
 * restricted security context once an init container has handed it the content directory
 * (pod-security.ts); only the agent's container holds the API token. A refusal or a disk too
 * small fails the Job at once (podFailurePolicy): its retries could not help, and the Placement's
 * condition says why from the agent's report.
 */
export function fillJobManifest(
  j: JobToCreate,
  placement: Placement,
  cluster: OCACluster,
  o: FillJobOptions &
    Pick<FillPolicy, "evictDelaySeconds" | "jobTtlSeconds"> & {
      owner: NonNullable<ObjectMeta["ownerReferences"]>[number];
    },
): KubeObject {
  const ref = `${placement.metadata.namespace}/${placement.metadata.name}`;
  const labels = {
    [placementLabel]: placement.metadata.name,
    [clusterLabel]: cluster.metadata.name,
    [serverLabel]: j.server,
    [jobLabel]: j.mode,
  };
  // evict needs no peers, so no link keys; fill fetches from peers with signed URLs.
  const fill = j.mode === "fill";
  const signing = fill ? ["--link-keys", linkKeysDir] : [];
  const args = [j.mode, "--placement", ref, "--server", j.server, "--grace-seconds", String(o.evictDelaySeconds)];
  const { edge } = cluster.spec;
  const content = { name: "content", mountPath: edge.contentPath };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: j.name, namespace: placement.metadata.namespace, labels, ownerReferences: [o.owner] },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: j.activeDeadlineSeconds,
      ttlSecondsAfterFinished: o.jobTtlSeconds,
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: { containerName: j.mode, operator: "In", values: [agentExit.refused, agentExit.noSpace] },
          },
          // A pod evicted or preempted is no failure of the fill.
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          nodeName: j.node,
          restartPolicy: "Never",
          serviceAccountName: o.agentServiceAccount,
          securityContext: edgePodSecurity,
          automountServiceAccountToken: false,
          initContainers: [contentOwnerContainer(edge.image, edge.contentPath, content)],
          containers: [
            {
              name: j.mode,
              image: edge.image,
              args: [...args, "--report-file", reportPath, ...signing],
              terminationMessagePath: reportPath,
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: restrictedContainer,
              volumeMounts: [content, ...(fill ? [linkKeysMount] : []), apiAccessMount],
            },
          ],
          volumes: [
            apiAccessVolume,
            { name: "content", hostPath: { path: edge.contentPath, type: "DirectoryOrCreate" } },
            ...(fill ? [linkKeysVolume(cluster.metadata.name)] : []),
          ],
        },
      },
    },
  };
}

/** Job names are label values too (≤ 63): the mode, the server name shortened, and a hash of the three. */
export function fillJobName(placement: string, server: string, mode: JobMode = "fill"): string {
  const h = createHash("sha256").update(`${mode}/${placement}/${server}`).digest("hex").slice(0, 10);
  return `${mode}-${server.slice(0, 40)}-${h}`;
}
