/**
 * Fill controller: drives each Placement through Pending → Filling → Active (or Superseded) by running
 * one fill Job per server inside the cluster's off-peak window. Deciding is fill-plan.ts.
 */
import { apiVersion, clusterLabel, Kinds, type Placement, parseObject, serverLabel } from "../api/index.js";
import type { Reconciler } from "../runtime/controller.js";
import { ApiError, type Kube, type KubeObject } from "../runtime/kube.js";
import { decideFill, type FillJob, type FillStatus, type JobState, jobModeLabel, placementLabel } from "./fill-plan.js";
import { ParsedCache } from "./parsed.js";
import { controllerRef } from "./resources.js";
import { holds } from "./status.js";

/** Its own field manager: the OCACluster controller owns the rest of Placement status. */
export const fillFieldManager = "edgefleet-fill";

type Cache = { get(key: string): KubeObject | undefined; list(): KubeObject[] };

export type FillDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create" | "delete">;
  placements: Cache;
  clusters: Cache;
  jobs: Cache;
  /** The ServiceAccount fill pods run as (it must be able to read the API group's objects). */
  agentServiceAccount: string;
  /** The Secret with the URL-signing key: fills fetch from peer servers with signed URLs. */
  signingSecret: string;
  now: () => Date;
}>;

type JobObject = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

function jobState(j: JobObject): JobState {
  const is = (t: string) => j.status?.conditions?.some((c) => c.type === t && c.status === "True");
  return is("Complete") ? "Complete" : is("Failed") ? "Failed" : "Running";
}

const pick = (s: Placement["status"]): FillStatus => ({
  observedGeneration: s?.observedGeneration,
  phase: s?.phase,
  conditions: s?.conditions,
});

export function makeFillReconciler(d: FillDeps): Reconciler {
  const placementViews = new ParsedCache("Placement");
  const writeStatus = async (p: Placement, status: FillStatus) => {
    if (holds(p.status, status)) return;
    const patch = {
      apiVersion,
      kind: "Placement",
      metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
      status,
    };
    await d.kube.apply(Kinds.Placement, patch, fillFieldManager, { subresource: "status" });
  };

  return {
    async reconcile(req, { log }) {
      const raw = d.placements.get(`${req.namespace}/${req.name}`);
      if (!raw || raw.metadata.deletionTimestamp) return {};
      const parsed = parseObject("Placement", raw);
      if (!parsed.ok) return {}; // the API server validated it; a stale cache entry will be replaced
      const placement = parsed.value;
      const rawCluster = d.clusters.get(`${req.namespace}/${placement.spec.cluster}`);
      const cluster = rawCluster && parseObject("OCACluster", rawCluster);
      if (!cluster?.ok) return {}; // the OCACluster controller reports a missing or invalid cluster
      const siblings = placementViews
        .all(d.placements.list(), req.namespace)
        .filter((p) => p.metadata.name !== req.name && p.spec.cluster === placement.spec.cluster);
      const jobs: FillJob[] = d.jobs
        .list()
        .filter((j) => j.metadata.namespace === req.namespace && j.metadata.labels?.[placementLabel] === req.name)
        .map((j) => ({
          name: j.metadata.name,
          server: j.metadata.labels?.[serverLabel] ?? "",
          mode: j.metadata.labels?.[jobModeLabel] === "evict" ? ("evict" as const) : ("fill" as const),
          state: jobState(j as JobObject),
        }));

      const c = cluster.value;
      const decision = decideFill({ placement, cluster: c, siblings, jobs, now: d.now() });
      const owner = controllerRef(raw);
      for (const j of decision.createJobs) {
        const labels = {
          [placementLabel]: req.name,
          [clusterLabel]: c.metadata.name,
          [serverLabel]: j.server,
          [jobModeLabel]: j.mode,
        };
        // evict needs no peers, so no signing key; fill fetches from peers with signed URLs.
        const signing = j.mode === "fill" ? ["--secret", "/etc/edgefleet/signing/key"] : [];
        const job = {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: j.name, namespace: req.namespace, labels, ownerReferences: [owner] },
          spec: {
            backoffLimit: 3,
            activeDeadlineSeconds: j.activeDeadlineSeconds,
            template: {
              metadata: { labels },
              spec: {
                nodeName: j.node,
                restartPolicy: "Never",
                serviceAccountName: d.agentServiceAccount,
                containers: [
                  {
                    name: j.mode,
                    image: c.spec.edge.image,
                    args: [j.mode, "--placement", `${req.namespace}/${req.name}`, "--server", j.server, ...signing],
                    volumeMounts: [
                      { name: "content", mountPath: c.spec.edge.contentPath },
                      { name: "signing", mountPath: "/etc/edgefleet/signing", readOnly: true },
                    ],
                  },
                ],
                volumes: [
                  { name: "content", hostPath: { path: c.spec.edge.contentPath, type: "DirectoryOrCreate" } },
                  { name: "signing", secret: { secretName: d.signingSecret } },
                ],
              },
            },
          },
        };
        try {
          await d.kube.create(Kinds.Job, job, fillFieldManager);
          log.info({ job: j.name, mode: j.mode, server: j.server, node: j.node }, "created job");
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 409)) throw err;
        }
      }
      for (const name of decision.deleteJobs) await d.kube.delete(Kinds.Job, { namespace: req.namespace, name });
      await writeStatus(placement, decision.status);
      for (const name of decision.supersede) {
        const s = siblings.find((p) => p.metadata.name === name);
        if (s) await writeStatus(s, { ...pick(s.status), phase: "Superseded" });
        log.info({ superseded: name }, "placement superseded");
      }
      return decision.recheckAfterMs === undefined ? {} : { requeueAfterMs: decision.recheckAfterMs };
    },
  };
}
