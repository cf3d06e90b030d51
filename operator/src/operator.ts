/**
 * The operator process: the five controllers (controllers/index.ts) run by the generic manager
 * (runtime/manager.ts) under one leader Lease, with /healthz /readyz /metrics, until the signal aborts
 * (SIGTERM in cli/).
 */
import type { Logger } from "pino";
import { Cached, Kinds } from "./api/index.js";
import { type ControllerDeps, namespaceOf } from "./controllers/deps.js";
import { defaultEdgePolicy, type EdgePolicy } from "./controllers/edge-policy.js";
import { type FillPolicy, fillPolicy } from "./controllers/fill-job.js";
import { fleetMetrics, fleetSamples, type SeenHeartbeat } from "./controllers/fleet-metrics.js";
import { controllers } from "./controllers/index.js";
import { planHca } from "./placement/index.js";
import type { Caches } from "./runtime/caches.js";
import { eventRecorder } from "./runtime/events.js";
import type { KubeClient } from "./runtime/kube.js";
import { type RunningManager, startManager } from "./runtime/manager.js";
import { registerSamples } from "./runtime/metrics.js";
import { fixedLinkKeys, type LinkKeySource } from "./steering/link-keys.js";

export type OperatorOptions = Readonly<{
  kube: KubeClient;
  log: Logger;
  /** Watch one namespace, or all when undefined. */
  namespace?: string | undefined;
  identity: string;
  leaseNamespace: string;
  leaseName?: string | undefined;
  healthPort: number;
  healthHost?: string | undefined;
  agentServiceAccount?: string | undefined;
  /**
   * The master URL-signing keys (link-keys.ts): each cluster's link-key Secret, which its edge nginx
   * checks links with and its fills sign with, derives from them. Without them no edge is applied
   * (EdgeConfigured=False, NoURLSigningKeys).
   */
  linkKeys?: LinkKeySource | undefined;
  /** Fill lifecycle timing and tidying (defaultFillPolicy for what is not given). */
  fill?: { [K in keyof FillPolicy]?: number | undefined } | undefined;
  /** Edge images and content paths clusters may use (controllers/edge-policy.ts); the project's image and /var/lib/edgefleet by default. */
  edgePolicy?: EdgePolicy | undefined;
  workers?: number | undefined;
  now?: (() => Date) | undefined;
}>;

export type RunningOperator = RunningManager;

/** The reportingController of the operator's Events (kubectl describe shows it under From). */
export const reportingController = "cdn.edgefleet.dev/operator";

export function startOperator(o: OperatorOptions, signal: AbortSignal): Promise<RunningOperator> {
  const linkKeys = o.linkKeys ?? fixedLinkKeys(undefined);
  const options = {
    agentServiceAccount: o.agentServiceAccount ?? "edgefleet-agent",
    ...fillPolicy(o.fill),
    policy: o.edgePolicy ?? defaultEdgePolicy,
    linkKeys,
  };
  // Events name this replica as their reportingInstance, as client-go's recorder names its host.
  const events = eventRecorder(o.kube, { controller: reportingController, instance: o.identity }, o.log);
  return startManager(
    {
      kube: o.kube,
      log: o.log,
      namespace: o.namespace,
      controllers: controllers(linkKeys),
      deps: (caches): ControllerDeps => ({
        kube: o.kube,
        caches,
        now: o.now ?? (() => new Date()),
        plan: planHca,
        options,
        events,
      }),
      election: { namespace: o.leaseNamespace, name: o.leaseName ?? "edgefleet-operator", identity: o.identity },
      health: { port: o.healthPort, host: o.healthHost },
      collectors: (caches, registry) =>
        registerSamples(registry, {
          metrics: Object.values(fleetMetrics),
          samples: () => fleetSamples(fleetObservation(caches, (o.now ?? (() => new Date()))())),
        }),
      workers: o.workers,
    },
    signal,
  );
}

/** What the fleet metrics read: every valid OCACluster and Placement cached, and the heartbeats seen. */
function fleetObservation(caches: Caches, now: Date) {
  const heartbeats = new Map<string, SeenHeartbeat>();
  for (const { key, value, observedAt } of caches.of(Cached.HeartbeatLease).entries()) {
    const hb = value?.heartbeat;
    if (hb)
      heartbeats.set(`${namespaceOf(key)}/${hb.cluster}/${hb.server}`, {
        leaseDurationSeconds: hb.leaseDurationSeconds,
        observedAt,
      });
  }
  const valid = <T>(entries: readonly { value: T | undefined }[]) => entries.flatMap((e) => (e.value ? [e.value] : []));
  return {
    clusters: valid(caches.of(Kinds.OCACluster).entries()),
    placements: valid(caches.of(Kinds.Placement).entries()),
    heartbeats,
    now,
  };
}
