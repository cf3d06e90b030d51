import { type HeartbeatLease, Kinds } from "../../../operator/src/api/index.js";
import type { Kube } from "../../../operator/src/runtime/kube.js";

/**
 * The one write serve mode makes: its heartbeat Lease, which carries its load and kTLS state. It never
 * writes its Node (no RBAC on nodes at all), and the chart's ValidatingAdmissionPolicy lets the agent's
 * ServiceAccount write only Leases named and labelled as heartbeats (charts/edgefleet/README.md).
 */
export interface HeartbeatWriter {
  applyLease(lease: HeartbeatLease): Promise<void>;
}

/** The agent's field manager: it owns only the Lease fields it applies. */
export const FIELD_MANAGER = "edgefleet-agent";

/** Server-side apply with our field manager: creates the Lease on the first beat, renews it after. */
export function kubeHeartbeatWriter(kube: Pick<Kube, "apply">): HeartbeatWriter {
  return {
    applyLease: async (lease) => {
      try {
        await kube.apply(Kinds.Lease, lease, FIELD_MANAGER);
      } catch (err) {
        throw new Error(`applying Lease ${lease.metadata.namespace}/${lease.metadata.name}`, { cause: err });
      }
    },
  };
}
