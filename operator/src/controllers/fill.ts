/**
 * Fill controller: drives each Placement through Pending → Filling → Active (or Superseded) by running
 * one fill Job per server inside the cluster's off-peak window. Deciding is fill-plan.ts.
 */
import { Kinds, type Placement, parseObject, serverLabel } from "../api/index.js";
import type { Reconciler } from "../runtime/controller.js";
import { ApiError, type Kube, type KubeObject } from "../runtime/kube.js";
import {
  decideFill,
  type FillJob,
  type FillJobOptions,
  type FillStatus,
  fillJobManifest,
  type JobState,
  jobModeLabel,
  placementLabel,
} from "./fill-plan.js";
import { ParsedCache } from "./parsed.js";
import { controllerRef } from "./resources.js";
import { statusWriter } from "./status.js";

/** Its own field manager: the OCACluster controller owns the rest of Placement status. */
export const fillFieldManager = "edgefleet-fill";

type Cache = { get(key: string): KubeObject | undefined; list(): KubeObject[] };

export type FillDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create" | "delete">;
  placements: Cache;
  clusters: Cache;
  jobs: Cache;
  now: () => Date;
}> &
  FillJobOptions;

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
  const applyStatus = statusWriter(d.kube, fillFieldManager);
  const writeStatus = (p: Placement, status: FillStatus) => applyStatus(Kinds.Placement, p, status);

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
        const job = fillJobManifest(j, placement, c, {
          agentServiceAccount: d.agentServiceAccount,
          signingSecret: d.signingSecret,
          owner,
        });
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
