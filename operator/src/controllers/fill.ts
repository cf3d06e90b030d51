/**
 * Fill controller: drives each Placement through Pending → Filling → Active (or Superseded) by running
 * one fill Job per server inside the cluster's off-peak window, then, once signed URLs to the old files
 * have expired, one evict Job per server; deletes Superseded Placements past the ones it keeps.
 * Deciding is fill-plan.ts; the Jobs are fill-job.ts.
 */
import {
  type AgentReport,
  Cached,
  type Job,
  Kinds,
  type OCACluster,
  type Placement,
  type Pod,
  parseAgentReport,
  phaseOf,
  serverLabel,
} from "../api/index.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import { type EventRecorder, type ObjectReference, referenceTo } from "../runtime/events.js";
import { ApiError, type Kube } from "../runtime/kube.js";
import { type ControllerSpec, self, watch } from "../runtime/manager.js";
import type { Cache } from "../runtime/store.js";
import { type ControllerDeps, namespaceOf } from "./deps.js";
import { type EdgePolicy, edgePolicyViolation, refusedFillStatus } from "./edge-policy.js";
import { fillEvents } from "./events.js";
import { type FillJobOptions, type FillPolicy, fillJobManifest, jobModeLabel, placementLabel } from "./fill-job.js";
import {
  decideFill,
  describeFailure,
  type FillJob,
  type FillStatus,
  type JobState,
  progressOnly,
} from "./fill-plan.js";
import { controllerRef } from "./resources.js";
import { statusWriter } from "./status.js";

/** Its own field manager: the OCACluster controller owns the rest of Placement status. */
export const fillFieldManager = "edgefleet-fill";

export type FillDeps = Readonly<{
  kube: Pick<Kube, "apply" | "create" | "delete" | "list">;
  placements: Pick<Cache<Placement>, "get" | "list">;
  clusters: Pick<Cache<OCACluster>, "get">;
  jobs: Pick<Cache<Job>, "list">;
  now: () => Date;
  events: EventRecorder;
  /** A cluster whose edge breaks it gets no Job (edge-policy.ts). */
  policy: EdgePolicy;
}> &
  FillJobOptions &
  FillPolicy;

type JobCondition = NonNullable<NonNullable<Job["status"]>["conditions"]>[number];
const trueCondition = (j: Job, type: string): JobCondition | undefined =>
  j.status?.conditions?.find((c) => c.type === type && c.status === "True");

function jobState(j: Job): JobState {
  return trueCondition(j, "Complete") ? "Complete" : trueCondition(j, "Failed") ? "Failed" : "Running";
}

const pick = (s: Placement["status"]): FillStatus => ({
  observedGeneration: s?.observedGeneration,
  phase: s?.phase,
  conditions: s?.conditions,
  promotedAt: s?.promotedAt,
  supersededAt: s?.supersededAt,
  filledServers: s?.filledServers,
  evictedServers: s?.evictedServers,
});

/**
 * The report the agent of a failed Job left as its container's termination message: the newest one
 * among the Job's pods. Read from the API (pods are not cached: only failed Jobs need them), once per
 * failure, remembered by the Job's name and the time it failed; `first` says this is that once.
 */
function failureReports(kube: Pick<Kube, "list">) {
  const seen = new Map<string, AgentReport | undefined>();
  return async (namespace: string, job: Job, failedAt: string): Promise<{ report?: AgentReport; first: boolean }> => {
    const key = `${namespace}/${job.metadata.name}@${failedAt}`;
    if (seen.has(key)) return { report: seen.get(key), first: false };
    const { items } = await kube.list<Pod & { metadata: { name: string } }>(Kinds.Pod, {
      namespace,
      labelSelector: `batch.kubernetes.io/job-name=${job.metadata.name}`,
    });
    const ended = items
      .flatMap(
        (p) => p.status?.containerStatuses?.flatMap((c) => (c.state?.terminated ? [c.state.terminated] : [])) ?? [],
      )
      .sort((a, b) => String(b.finishedAt ?? "").localeCompare(String(a.finishedAt ?? "")));
    const report = parseAgentReport(ended[0]?.message);
    if (seen.size >= 1000) seen.delete(seen.keys().next().value ?? "");
    seen.set(key, report);
    return { report, first: true };
  };
}

/**
 * A write that only moves progress (fill-plan.ts progressOnly) waits until this long after the
 * Placement's last status write: its servers' Jobs finish within moments of each other, and ten
 * progress writes (each echoed in the OCACluster's status) become one or two.
 */
export const progressWriteEveryMs = 5_000;

/**
 * Writes a Placement's fill status unless it only moves progress within progressWriteEveryMs of this
 * process's last write of it; resolves to how long that write is held back (0: written or unchanged).
 */
function coalescingWriter(write: (p: Placement, status: FillStatus) => Promise<boolean>) {
  const wroteAt = new Map<string, number>();
  return async (key: string, p: Placement, status: FillStatus, nowMs: number): Promise<number> => {
    const last = wroteAt.get(key);
    const holdFor = last !== undefined && progressOnly(p.status, status) ? last + progressWriteEveryMs - nowMs : 0;
    if (holdFor > 0) return holdFor;
    if (await write(p, status)) {
      if (wroteAt.size >= 10_000) wroteAt.delete(wroteAt.keys().next().value ?? "");
      wroteAt.set(key, nowMs);
    }
    return 0;
  };
}

export function makeFillReconciler(d: FillDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fillFieldManager);
  const writeStatus = (p: Placement, status: FillStatus) => applyStatus(Kinds.Placement, p, status);
  const writeFillStatus = coalescingWriter(writeStatus);
  const reportOf = failureReports(d.kube);
  const policy: FillPolicy = d;

  /** This Placement's Jobs, and which of them this process sees failed for the first time. */
  const observeJobs = async (
    namespace: string,
    placement: string,
  ): Promise<(FillJob & { firstFailure: boolean })[]> => {
    const jobs = d.jobs.list(namespace).filter((j) => j.metadata.labels?.[placementLabel] === placement);
    return Promise.all(
      jobs.map(async (j) => {
        const failed = trueCondition(j, "Failed");
        const failedAt = failed?.lastTransitionTime ?? "";
        const r = failed ? await reportOf(namespace, j, failedAt) : undefined;
        return {
          name: j.metadata.name,
          server: j.metadata.labels?.[serverLabel] ?? "",
          mode: j.metadata.labels?.[jobModeLabel] === "evict" ? ("evict" as const) : ("fill" as const),
          state: jobState(j),
          failedAt: failedAt ? new Date(failedAt) : undefined,
          report: r?.report,
          firstFailure: r?.first ?? false,
        };
      }),
    );
  };

  return reconcilerOf(d.placements, async (entry, req, { log }) => {
    const placement = entry.value;
    if (!placement) return {}; // the API server validated it; a stale cache entry will be replaced
    const clusterEntry = d.clusters.get(`${req.namespace}/${placement.spec.cluster}`);
    const c = clusterEntry?.value;
    if (!clusterEntry || !c) return {}; // the OCACluster controller reports a missing or invalid cluster
    const refused = edgePolicyViolation(c.spec.edge, d.policy);
    if (refused) {
      // No Job runs this cluster's image or mounts its content path; the edge controller names the field.
      const status = refusedFillStatus(placement, refused, d.now());
      if (status) await writeStatus(placement, status);
      return {};
    }
    const siblings = d.placements
      .list(req.namespace)
      .filter((p) => p.metadata.name !== req.name && p.spec.cluster === placement.spec.cluster);
    const jobs = await observeJobs(req.namespace, req.name);
    const now = d.now();
    const decision = decideFill({ placement, cluster: c, siblings, jobs, policy, now });
    const owner = controllerRef(entry.object);
    const startedFills: string[] = [];
    for (const j of decision.createJobs) {
      const job = fillJobManifest(j, placement, c, { ...d, owner });
      try {
        await d.kube.create(Kinds.Job, job, fillFieldManager);
        log.info({ job: j.name, mode: j.mode, server: j.server, node: j.node }, "created job");
        if (j.mode === "fill") startedFills.push(j.server);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      }
    }
    for (const name of decision.deleteJobs) await d.kube.delete(Kinds.Job, { namespace: req.namespace, name });
    const holdFor = await writeFillStatus(entry.key, placement, decision.status, now.getTime());
    const superseded: ObjectReference[] = [];
    for (const name of decision.supersede) {
      const s = d.placements.get(`${req.namespace}/${name}`);
      const supersededAt = now.toISOString().replace(/\.\d+Z$/, "Z");
      if (s?.value) await writeStatus(s.value, { ...pick(s.value.status), phase: "Superseded", supersededAt });
      if (s) superseded.push(referenceTo(s.object));
      log.info({ superseded: name }, "placement superseded");
    }
    const change = {
      placement: referenceTo(entry.object),
      cluster: referenceTo(clusterEntry.object),
      window: c.spec.fill.window,
      now,
      before: { phase: phaseOf(placement), conditions: placement.status?.conditions },
      after: decision.status,
      startedFills,
      newFailures: jobs.filter((j) => j.mode === "fill" && j.firstFailure).map(describeFailure),
      superseded,
    };
    for (const e of fillEvents(change)) await d.events.record(e);
    for (const name of decision.deletePlacements) {
      await d.kube.delete(Kinds.Placement, { namespace: req.namespace, name });
      log.info({ placement: name }, "deleted superseded placement");
    }
    const recheck = [decision.recheckAfterMs, holdFor > 0 ? holdFor : undefined].filter((x) => x !== undefined);
    return recheck.length === 0 ? {} : { requeueAfterMs: Math.min(...recheck) };
  });
}

export const fillController = {
  name: "fill",
  // Reconciles wait on Job creates and status writes, one Placement per cluster at a time.
  workers: 4,
  for: watch(Kinds.Placement, self),
  watches: [
    // Owns: a Job's change wakes the Placement it fills (as its label names it). Only the Jobs this
    // controller made (labelled with their mode) are cached, not every Job of the cluster.
    watch(Cached.FillJob, (key, job) => {
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
  make: (d: Pick<ControllerDeps, "kube" | "caches" | "now" | "options" | "events">) =>
    makeFillReconciler({
      kube: d.kube,
      placements: d.caches.of(Kinds.Placement),
      clusters: d.caches.of(Kinds.OCACluster),
      jobs: d.caches.of(Cached.FillJob),
      now: d.now,
      events: d.events,
      ...d.options,
    }),
} satisfies ControllerSpec<Pick<ControllerDeps, "kube" | "caches" | "now" | "options" | "events">>;
