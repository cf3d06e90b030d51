/**
 * Fill controller: drives each Placement through Pending → Filling → Active (or Superseded) by running
 * one fill Job per server inside the cluster's off-peak window. Deciding is fill-plan.ts.
 */
import { type Job, Kinds, type OCACluster, type Placement, serverLabel } from "../api/index.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import { ApiError, type Kube } from "../runtime/kube.js";
import { type ControllerSpec, self, watch } from "../runtime/manager.js";
import type { Cache } from "../runtime/store.js";
import { type ControllerDeps, namespaceOf } from "./deps.js";
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
import { controllerRef } from "./resources.js";
import { statusWriter } from "./status.js";

/** Its own field manager: the OCACluster controller owns the rest of Placement status. */
export const fillFieldManager = "edgefleet-fill";

export type FillDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create" | "delete">;
  placements: Pick<Cache<Placement>, "get" | "list">;
  clusters: Pick<Cache<OCACluster>, "get">;
  jobs: Pick<Cache<Job>, "list">;
  now: () => Date;
}> &
  FillJobOptions;

function jobState(j: Job): JobState {
  const is = (t: string) => j.status?.conditions?.some((c) => c.type === t && c.status === "True");
  return is("Complete") ? "Complete" : is("Failed") ? "Failed" : "Running";
}

const pick = (s: Placement["status"]): FillStatus => ({
  observedGeneration: s?.observedGeneration,
  phase: s?.phase,
  conditions: s?.conditions,
});

export function makeFillReconciler(d: FillDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fillFieldManager);
  const writeStatus = (p: Placement, status: FillStatus) => applyStatus(Kinds.Placement, p, status);

  return reconcilerOf(d.placements, async (entry, req, { log }) => {
    const placement = entry.value;
    if (!placement) return {}; // the API server validated it; a stale cache entry will be replaced
    const c = d.clusters.get(`${req.namespace}/${placement.spec.cluster}`)?.value;
    if (!c) return {}; // the OCACluster controller reports a missing or invalid cluster
    const siblings = d.placements
      .list(req.namespace)
      .filter((p) => p.metadata.name !== req.name && p.spec.cluster === placement.spec.cluster);
    const jobs: FillJob[] = d.jobs
      .list(req.namespace)
      .filter((j) => j.metadata.labels?.[placementLabel] === req.name)
      .map((j) => ({
        name: j.metadata.name,
        server: j.metadata.labels?.[serverLabel] ?? "",
        mode: j.metadata.labels?.[jobModeLabel] === "evict" ? ("evict" as const) : ("fill" as const),
        state: jobState(j),
      }));

    const decision = decideFill({ placement, cluster: c, siblings, jobs, now: d.now() });
    const owner = controllerRef(entry.object);
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
  });
}

export const fillController = {
  name: "fill",
  for: watch(Kinds.Placement, self),
  watches: [
    // Owns: a Job's change wakes the Placement it fills (as its label names it).
    watch(Kinds.Job, (key, job) => {
      const p = job.object.metadata.labels?.[placementLabel];
      return p ? [`${namespaceOf(key)}/${p}`] : [];
    }),
    // The fill schedule follows the cluster's spec (its window, its servers): its Placements look again.
    watch(
      Kinds.OCACluster,
      (key, _c, caches) => {
        const ns = namespaceOf(key);
        const cluster = key.slice(ns.length + 1);
        return caches
          .of(Kinds.Placement)
          .list(ns)
          .filter((p) => p.spec.cluster === cluster)
          .map((p) => `${ns}/${p.metadata.name}`);
      },
      { on: "spec" },
    ),
  ],
  make: (d: Pick<ControllerDeps, "kube" | "caches" | "now" | "options">) =>
    makeFillReconciler({
      kube: d.kube,
      placements: d.caches.of(Kinds.Placement),
      clusters: d.caches.of(Kinds.OCACluster),
      jobs: d.caches.of(Kinds.Job),
      now: d.now,
      ...d.options,
    }),
} satisfies ControllerSpec<Pick<ControllerDeps, "kube" | "caches" | "now" | "options">>;
