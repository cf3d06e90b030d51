import { KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { KTLS_ANNOTATION, type LeaseObject } from "./heartbeat.js";

/** The two writes serve mode makes; narrow so the loop does not know about client-node. */
export interface HeartbeatWriter {
  applyLease(lease: LeaseObject): Promise<void>;
  annotateNode(nodeName: string, ktls: string): Promise<void>;
}

const FIELD_MANAGER = "edgefleet-agent";

/** Server-side apply with our field manager: creates the Lease on first beat, renews it after. */
export function kubeHeartbeatWriter(kc: KubeConfig = defaultKubeConfig()): HeartbeatWriter {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const apply = async (obj: object, what: string) => {
    try {
      await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new Error(`applying ${what}`, { cause: err });
    }
  };
  return {
    applyLease: (lease) => apply(lease, `Lease ${lease.metadata.namespace}/${lease.metadata.name}`),
    annotateNode: (name, ktls) =>
      apply(
        { apiVersion: "v1", kind: "Node", metadata: { name, annotations: { [KTLS_ANNOTATION]: ktls } } },
        `Node ${name}`,
      ),
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault(); // in-cluster service account in the pod, KUBECONFIG elsewhere
  return kc;
}
