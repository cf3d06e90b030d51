/**
 * Edge controller: keeps each OCACluster's link-key Secret, edge ConfigMap and DaemonSet (edge-plan.ts)
 * applied, and reports whether its edge settings render and are allowed (edge-policy.ts: the image's
 * repository, the content path inside the root) and which kids its edge holds as condition
 * EdgeConfigured, under its own field manager so it never disturbs the conditions the OCACluster
 * controller owns. A change of the master keys (a kid added, made primary, removed) wakes every cluster.
 */
import { Kinds, type OCACluster } from "../api/index.js";
import { EdgeSettingsError } from "../edge/nginx-config.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import { type EventRecorder, referenceTo } from "../runtime/events.js";
import type { Kube } from "../runtime/kube.js";
import { type ControllerSpec, self, type Watch, watch } from "../runtime/manager.js";
import type { Cache } from "../runtime/store.js";
import type { LinkKeySource } from "../steering/link-keys.js";
import { setCondition } from "./conditions.js";
import type { ControllerDeps } from "./deps.js";
import { type EdgeOptions, edgeObjects, linkKeysSecret } from "./edge-plan.js";
import { type EdgePolicy, edgePolicyViolation } from "./edge-policy.js";
import { edgeConfigInvalid } from "./events.js";
import { controllerRef } from "./resources.js";
import { statusWriter } from "./status.js";

export const edgeFieldManager = "edgefleet-edge";

export type EdgeDeps = Readonly<{
  kube: Pick<Kube, "apply">;
  clusters: Pick<Cache<OCACluster>, "get">;
  options: EdgeOptions & Readonly<{ policy: EdgePolicy; linkKeys: LinkKeySource }>;
  now: () => Date;
  events: EventRecorder;
}>;

type NewEdgeCondition = Parameters<typeof setCondition>[1];

export function makeEdgeReconciler(d: EdgeDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, edgeFieldManager);
  return reconcilerOf(d.clusters, async (entry, _req, { log }) => {
    const cluster = entry.value;
    if (!cluster) return {}; // the OCACluster controller reports the invalid spec
    const gen = cluster.metadata.generation;
    const refused = (reason: string, message: string): NewEdgeCondition => {
      log.warn({ reason, why: message }, "edge pods not applied");
      return { type: "EdgeConfigured", status: "False", reason, message, observedGeneration: gen };
    };
    let condition: NewEdgeCondition;
    const violation = edgePolicyViolation(cluster.spec.edge, d.options.policy);
    if (violation) {
      // Nothing of this spec reaches a node: no DaemonSet (nor, in the fill controller, a Job).
      condition = refused(violation.reason, violation.message);
    } else {
      try {
        const owner = [controllerRef(entry.object)];
        const { configMap, daemonSet } = edgeObjects(cluster, d.options, owner);
        const masters = d.options.linkKeys.current();
        if (masters === undefined) {
          condition = refused(
            "NoURLSigningKeys",
            "the operator has no URL-signing master keys (--url-signing-keys-dir)",
          );
        } else {
          // The keys first: the pods mount them.
          await d.kube.apply(Kinds.Secret, linkKeysSecret(cluster, masters, owner), edgeFieldManager);
          await d.kube.apply(Kinds.ConfigMap, configMap, edgeFieldManager);
          await d.kube.apply(Kinds.DaemonSet, daemonSet, edgeFieldManager);
          const kids = `link keys ${[...masters.keys.keys()].join(", ")} (${masters.primary} signs)`;
          const message = `DaemonSet ${daemonSet.metadata.name}; ${kids}`;
          condition = { type: "EdgeConfigured", status: "True", reason: "Applied", message, observedGeneration: gen };
        }
      } catch (err) {
        if (!(err instanceof EdgeSettingsError)) throw err;
        condition = refused("InvalidEdgeSettings", err.message);
      }
    }
    const current = cluster.status?.conditions?.filter((c) => c.type === "EdgeConfigured") ?? [];
    const conditions = setCondition(current, condition, d.now());
    if (await applyStatus(Kinds.OCACluster, cluster, { conditions })) {
      for (const e of edgeConfigInvalid(referenceTo(entry.object), current, conditions)) await d.events.record(e);
    }
    // Re-apply now and then: informers wake this controller on spec changes only, and someone may
    // have deleted or edited the DaemonSet in between.
    return { requeueAfterMs: 10 * 60_000 };
  });
}

/** Every cluster, when the master keys change: each one's link-key Secret derives from them. */
export function onLinkKeysChange(keys: Pick<LinkKeySource, "onChange">): Watch {
  return {
    kind: Kinds.OCACluster,
    subscribe(caches, enqueue) {
      keys.onChange(() => {
        for (const e of caches.of(Kinds.OCACluster).entries()) enqueue(e.key);
      });
    },
  };
}

/** The edge controller, woken by its clusters' specs and by changes of `keys`, the master keys. */
export const edgeController = (keys: Pick<LinkKeySource, "onChange">) =>
  ({
    name: "edge",
    // The edge objects follow the cluster's spec, not its status (which the other controllers write).
    for: watch(Kinds.OCACluster, self, { on: "spec" }),
    watches: [onLinkKeysChange(keys)],
    make: (d: Pick<ControllerDeps, "kube" | "caches" | "now" | "options" | "events">) =>
      makeEdgeReconciler({
        kube: d.kube,
        clusters: d.caches.of(Kinds.OCACluster),
        options: d.options,
        now: d.now,
        events: d.events,
      }),
  }) satisfies ControllerSpec<Pick<ControllerDeps, "kube" | "caches" | "now" | "options" | "events">>;
