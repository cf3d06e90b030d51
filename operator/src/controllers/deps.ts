/** What the operator's controllers are made from: the process builds one of these around its caches. */
import type { PlanInput, PlanResult } from "../placement/index.js";
import type { Caches } from "../runtime/caches.js";
import type { EventRecorder } from "../runtime/events.js";
import type { KubeClient } from "../runtime/kube.js";
import type { LinkKeySource } from "../steering/link-keys.js";
import type { EdgePolicy } from "./edge-policy.js";
import type { FillJobOptions, FillPolicy } from "./fill-job.js";

export type ControllerDeps = Readonly<{
  kube: KubeClient;
  caches: Caches;
  now: () => Date;
  /** Where the controllers' Events go (controllers/events.ts says which). */
  events: EventRecorder;
  /** The placement engine (planHca; a test may pass another). */
  plan: (i: PlanInput) => PlanResult;
  /**
   * Who runs the edge and fill pods; how the fill lifecycle is timed and tidied; what a cluster may put
   * on its nodes (edge-policy.ts); the master link keys each cluster's link-key Secret derives from.
   */
  options: FillJobOptions & FillPolicy & Readonly<{ policy: EdgePolicy; linkKeys: LinkKeySource }>;
}>;

/** The namespace of a "<namespace>/<name>" key, and the keys of a namespace's objects in a cache. */
export const namespaceOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf("/")));
export const keysIn = (cache: { list(namespace: string): { metadata: { name: string } }[] }, ns: string): string[] =>
  cache.list(ns).map((o) => `${ns}/${o.metadata.name}`);
