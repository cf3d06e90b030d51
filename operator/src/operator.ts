/**
 * The operator process: the five controllers (controllers/index.ts) run by the generic manager
 * (runtime/manager.ts) under one leader Lease, with /healthz /readyz /metrics, until the signal aborts
 * (SIGTERM in cli/).
 */
import type { Logger } from "pino";
import { defaultEdgePolicy, type EdgePolicy } from "./controllers/edge-policy.js";
import { type FillPolicy, fillPolicy } from "./controllers/fill-job.js";
import { controllers } from "./controllers/index.js";
import { planHca } from "./placement/index.js";
import type { KubeClient } from "./runtime/kube.js";
import { type RunningManager, startManager } from "./runtime/manager.js";
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

export function startOperator(o: OperatorOptions, signal: AbortSignal): Promise<RunningOperator> {
  const linkKeys = o.linkKeys ?? fixedLinkKeys(undefined);
  const options = {
    agentServiceAccount: o.agentServiceAccount ?? "edgefleet-agent",
    ...fillPolicy(o.fill),
    policy: o.edgePolicy ?? defaultEdgePolicy,
    linkKeys,
  };
  return startManager(
    {
      kube: o.kube,
      log: o.log,
      namespace: o.namespace,
      controllers: controllers(linkKeys),
      deps: (caches) => ({ kube: o.kube, caches, now: o.now ?? (() => new Date()), plan: planHca, options }),
      election: { namespace: o.leaseNamespace, name: o.leaseName ?? "edgefleet-operator", identity: o.identity },
      health: { port: o.healthPort, host: o.healthHost },
      workers: o.workers,
    },
    signal,
  );
}
