/**
 * The security contexts of the pods the operator creates (the edge DaemonSet, fill and evict Jobs):
 * the Pod Security Standard "restricted" profile, except where the data path needs the host. What each
 * exception is for is listed in charts/edgefleet/README.md ("Pod Security") and checked against a real
 * API server in test/integration/operator.test.ts.
 */
import { edgeUser } from "../edge/user.js";

/** Every edge pod: as the edge user, never root unless a container says so, RuntimeDefault seccomp. */
export const edgePodSecurity = {
  runAsNonRoot: true,
  runAsUser: edgeUser.uid,
  runAsGroup: edgeUser.gid,
  // Secret, ConfigMap, projected and emptyDir volumes are group-owned by the edge user (hostPath is not).
  fsGroup: edgeUser.gid,
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** A container that needs nothing of the host beyond its volumes: restricted. */
export const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
} as const;

/**
 * nginx binds the cluster's httpPort and httpsPort on the host network, 80 and 443 by default, as the
 * edge user. Kubernetes sets no ambient capabilities, so the NET_BIND_SERVICE of the `add` list (in the
 * bounding and permitted sets until exec) survives exec only through a file capability: the image's
 * /usr/sbin/nginx carries cap_net_bind_service+ep (nodes/Dockerfile), and the container execs it
 * directly (no shell or init in between, whose exec would drop it; ingress-nginx #7445). Because the
 * capability is already permitted before exec, no_new_privs does not strip it: allowPrivilegeEscalation
 * stays false and the container is restricted. The add is there on every port: without
 * NET_BIND_SERVICE in the bounding set, exec of that binary fails with EPERM.
 * ❌ command: ["sh", "-c", "nginx …"] (sh drops the capability); ✅ command: ["nginx", …].
 */
export const nginxSecurity = {
  ...restrictedContainer,
  capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
} as const;

/**
 * The init container of a fill or evict Job that hands the content directory to the edge user. The
 * kubelet creates a hostPath (DirectoryOrCreate) owned by root and ignores fsGroup for it, and fill and
 * evict run as the edge user, so something must chown it once: this container runs as uid 0 with CHOWN
 * as its only capability (no DAC_OVERRIDE, no FOWNER), mounts that one host directory (the rest of its
 * filesystem is the read-only image), and changes only what is not the edge user's yet
 * (`edgefleet-agent own-content`: in the steady state one stat of the directory).
 */
export function contentOwnerContainer(image: string, contentPath: string, mount: object) {
  return {
    name: "content-owner",
    image,
    args: ["own-content", "--content", contentPath],
    securityContext: {
      ...restrictedContainer,
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      capabilities: { drop: ["ALL"], add: ["CHOWN"] },
    },
    volumeMounts: [mount],
  };
}

/**
 * The API credentials, mounted only into the containers that talk to the API server (the agent; fill
 * and evict) where the kubelet would mount them: pods set automountServiceAccountToken: false, so
 * nginx, facing the internet, and the root init container hold no token.
 */
export const apiAccessVolume = {
  name: "kube-api-access",
  projected: {
    sources: [
      { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
    ],
  },
} as const;

export const apiAccessMount = {
  name: "kube-api-access",
  mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
  readOnly: true,
} as const;
