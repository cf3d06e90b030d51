import { type HeartbeatLease, Kinds, ktlsAnnotation } from "../../../operator/src/api/index.js";
import type { Kube } from "../../../operator/src/runtime/kube.js";

/** The two writes serve mode makes; narrow so the loop does not know about the API client. */
export interface HeartbeatWriter {
  applyLease(lease: HeartbeatLease): Promise<void>;
  annotateNode(nodeName: string, ktls: string): Promise<void>;
}

/** The agent's field manager: it owns only the Lease fields and the one Node annotation it applies. */
export const FIELD_MANAGER = "edgefleet-agent";

export class NodeNotFoundError extends Error {
  override name = "NodeNotFoundError";
}

/** Server-side apply with our field manager: creates the Lease on the first beat, renews it after. */
export function kubeHeartbeatWriter(kube: Pick<Kube, "apply" | "get">): HeartbeatWriter {
  return {
    applyLease: async (lease) => {
      try {
        await kube.apply(Kinds.Lease, lease, FIELD_MANAGER);
      } catch (err) {
        throw new Error(`applying Lease ${lease.metadata.namespace}/${lease.metadata.name}`, { cause: err });
      }
    },
    annotateNode: async (name, ktls) => {
      // An apply creates what does not exist; a Node made of one annotation would be worse than none.
      if ((await kube.get(Kinds.Node, { name })) === undefined)
        throw new NodeNotFoundError(`--node: Node ${JSON.stringify(name)} does not exist`);
      try {
        await kube.apply(
          Kinds.Node,
          { apiVersion: "v1", kind: "Node", metadata: { name, annotations: { [ktlsAnnotation]: ktls } } },
          FIELD_MANAGER,
        );
      } catch (err) {
        throw new Error(`annotating Node ${name}`, { cause: err });
      }
    },
  };
}
