/**
 * The fill lifecycle of one Placement (DESIGN.md decision 3), decided from what is observed. Pure.
 *
 *   Pending ──window opens──► Filling (one fill Job per server, on that server's node)
 *   Filling ──every Job complete──► Active (the cluster's previous Active becomes Superseded)
 *   Pending or Filling ──a newer live Placement of the cluster exists──► Superseded (nothing of it
 *                        was served; its agents would refuse a catalog that has moved on anyway)
 *   Active ──once──► one evict Job per server: files the active ring does not name leave the disk,
 *                    only now that steering no longer sends clients to them
 *
 * A failed Job is reported and recreated in the next window; the other servers' filled files stay.
 */
import { createHash } from "node:crypto";
import {
  byAge,
  type Condition,
  clusterLabel,
  type OCACluster,
  type Placement,
  type PlacementStatus,
  phaseOf,
  serverLabel,
} from "../api/index.js";
import type { KubeObject, ObjectMeta } from "../runtime/kube.js";
import { type NewCondition, setConditions } from "./conditions.js";
import { fillWindowState } from "./fill-window.js";

export const placementLabel = "cdn.edgefleet.dev/placement";

export type JobState = "Running" | "Complete" | "Failed";
export type JobMode = "fill" | "evict";
export const jobModeLabel = "cdn.edgefleet.dev/job";
export type FillJob = Readonly<{ name: string; server: string; mode: JobMode; state: JobState }>;

export type FillObservation = Readonly<{
  placement: Placement;
  cluster: OCACluster;
  /** The cluster's other Placements. */
  siblings: readonly Placement[];
  /** This Placement's fill Jobs. */
  jobs: readonly FillJob[];
  now: Date;
}>;

export type JobToCreate = Readonly<{
  name: string;
  mode: JobMode;
  server: string;
  node: string;
  activeDeadlineSeconds: number;
}>;

/** The part of Placement status this controller owns. */
export type FillStatus = Pick<PlacementStatus, "observedGeneration" | "phase" | "conditions">;

export type FillDecision = Readonly<{
  status: FillStatus;
  createJobs: readonly JobToCreate[];
  /** Failed Jobs to delete so the next window can run them again. */
  deleteJobs: readonly string[];
  /** Active siblings that this Placement replaces. */
  supersede: readonly string[];
  recheckAfterMs?: number;
}>;

/** Who runs fill Jobs, and with which key they sign fetches from peer servers. */
export type FillJobOptions = Readonly<{
  /** The ServiceAccount fill pods run as (it must be able to read the API group's objects). */
  agentServiceAccount: string;
  /** The Secret with the URL-signing key: fills fetch from peer servers with signed URLs. */
  signingSecret: string;
}>;

/**
 * The Job that runs one server's fill or evict: pinned to the server's node, the content disk mounted
 * at the same path as nginx serves it, the agent image of the cluster's edge.
 */
export function fillJobManifest(
  j: JobToCreate,
  placement: Placement,
  cluster: OCACluster,
  o: FillJobOptions & { owner: NonNullable<ObjectMeta["ownerReferences"]>[number] },
): KubeObject {
  const ref = `${placement.metadata.namespace}/${placement.metadata.name}`;
  const labels = {
    [placementLabel]: placement.metadata.name,
    [clusterLabel]: cluster.metadata.name,
    [serverLabel]: j.server,
    [jobModeLabel]: j.mode,
  };
  // evict needs no peers, so no signing key; fill fetches from peers with signed URLs.
  const signing = j.mode === "fill" ? ["--secret", "/etc/edgefleet/signing/key"] : [];
  const { edge } = cluster.spec;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: j.name, namespace: placement.metadata.namespace, labels, ownerReferences: [o.owner] },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: j.activeDeadlineSeconds,
      template: {
        metadata: { labels },
        spec: {
          nodeName: j.node,
          restartPolicy: "Never",
          serviceAccountName: o.agentServiceAccount,
          containers: [
            {
              name: j.mode,
              image: edge.image,
              args: [j.mode, "--placement", ref, "--server", j.server, ...signing],
              volumeMounts: [
                { name: "content", mountPath: edge.contentPath },
                { name: "signing", mountPath: "/etc/edgefleet/signing", readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "content", hostPath: { path: edge.contentPath, type: "DirectoryOrCreate" } },
            { name: "signing", secret: { secretName: o.signingSecret } },
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

/** One Job of `mode` per server, on its node. */
const jobsFor = (
  placement: Placement,
  mode: JobMode,
  activeDeadlineSeconds: number,
  servers: readonly OCACluster["spec"]["servers"][number][],
): JobToCreate[] =>
  servers.map((s) => ({
    name: fillJobName(placement.metadata.name, s.name, mode),
    mode,
    server: s.name,
    node: s.node,
    activeDeadlineSeconds,
  }));

export function decideFill(o: FillObservation): FillDecision {
  const { placement, cluster, now } = o;
  const gen = placement.metadata.generation;
  const old = placement.status ?? {};
  const status = (phase: NonNullable<PlacementStatus["phase"]>, cs: NewCondition[]): FillStatus => ({
    observedGeneration: gen,
    phase,
    conditions: setConditions(old.conditions ?? ([] as Condition[]), cs, now),
  });
  const filled = (st: "True" | "False", reason: string, message: string): NewCondition => ({
    type: "Filled",
    status: st,
    reason,
    message,
    observedGeneration: gen,
  });
  const none = { createJobs: [], deleteJobs: [], supersede: [] };
  const phase = phaseOf(placement);
  const servers = cluster.spec.servers.filter((s) => placement.spec.servers.some((p) => p.name === s.name));
  if (phase === "Superseded") return { ...none, status: status(phase, []) };
  if (phase === "Active") {
    const evicting = new Set(o.jobs.filter((j) => j.mode === "evict").map((j) => j.server));
    const createJobs = jobsFor(
      placement,
      "evict",
      3600,
      servers.filter((s) => !evicting.has(s.name)),
    );
    return { ...none, createJobs, status: status(phase, []) };
  }

  const newer = o.siblings.some((s) => phaseOf(s) !== "Superseded" && byAge(s, placement) > 0);
  if (newer) {
    return {
      ...none,
      status: status("Superseded", [filled("False", "Superseded", "a newer placement replaced it before its fill")]),
    };
  }

  const window = fillWindowState(cluster.spec.fill.window, now);
  const byServer = new Map(o.jobs.filter((j) => j.mode === "fill").map((j) => [j.server, j]));
  const done = servers.filter((s) => byServer.get(s.name)?.state === "Complete");
  const failed = servers.filter((s) => byServer.get(s.name)?.state === "Failed").map((s) => s.name);

  if (phase === "Filling" && done.length === servers.length) {
    const supersede = o.siblings.filter((s) => phaseOf(s) === "Active").map((s) => s.metadata.name);
    return {
      ...none,
      supersede,
      status: status("Active", [filled("True", "AllServersFilled", `${done.length} servers filled`)]),
    };
  }
  if (!window.open) {
    const reason = phase === "Filling" ? "WindowClosed" : "WaitingForWindow";
    const message = `${done.length}/${servers.length} servers filled${failed.length ? `; failed: ${failed.join(", ")}` : ""}; next window opens ${window.nextStart.toISOString()}`;
    return {
      ...none,
      deleteJobs: failed.map((s) => fillJobName(placement.metadata.name, s)),
      status: status(phase, [filled("False", reason, message)]),
      recheckAfterMs: Math.max(1000, window.nextStart.getTime() - now.getTime()),
    };
  }
  const activeDeadlineSeconds = Math.max(60, Math.floor((window.end.getTime() - now.getTime()) / 1000));
  const createJobs = jobsFor(
    placement,
    "fill",
    activeDeadlineSeconds,
    servers.filter((s) => !byServer.has(s.name)),
  );
  const message = `${done.length}/${servers.length} servers filled${failed.length ? `; failed: ${failed.join(", ")} (retried next window)` : ""}`;
  return {
    ...none,
    createJobs,
    status: status("Filling", [
      {
        type: "FillStarted",
        status: "True",
        reason: "WindowOpen",
        message: "fill Jobs created",
        observedGeneration: gen,
      },
      filled("False", failed.length ? "FillFailed" : "Filling", message),
    ]),
    recheckAfterMs: Math.max(1000, window.end.getTime() - now.getTime()),
  };
}
