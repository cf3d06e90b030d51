/**
 * The edge pods of an OCACluster, as a pure function of its spec: a ConfigMap with the nginx settings
 * and the agent's serve settings, a DaemonSet on exactly the cluster's nodes, and the cluster's
 * link-key Secret (linkKeysSecret: its keys derived from the master keys, one per kid). Each pod runs,
 * on the host network so clients reach the server's own addresses, every container as the edge user
 * (pod-security.ts):
 *   init   edgefleet-agent init: renders nginx.conf and the njs link verifier (validates both first)
 *   nginx  serves the host's content disk, read-only, with sendfile and kTLS where the kernel has it;
 *          checks signed links against the link-key Secret, mounted: the kubelet updates its files in
 *          place when a kid is added or removed, and the verifier reads them per request (no restart)
 *   agent  edgefleet-agent serve: heartbeat Lease (with the kTLS state and the kids nginx holds),
 *          /metrics, /readyz (kTLS required)
 * Only the agent holds API credentials; only nginx holds the cluster's link keys (and fill Jobs).
 */

import { clusterLabel, type OCACluster } from "../api/index.js";
import { type EdgeSettingsInput, renderNginxConf } from "../edge/nginx-config.js";
import type { ServeConfigInput } from "../edge/serve-config.js";
import type { KubeObject } from "../runtime/kube.js";
import { clusterKeyEntries, type LinkKeyring } from "../steering/link-keys.js";
import {
  apiAccessMount,
  apiAccessVolume,
  edgePodSecurity,
  nginxSecurity,
  restrictedContainer,
} from "./pod-security.js";

/** Fixed host ports of every edge pod (host network). None is a Fetch "bad port": the agent reads stub_status with fetch. */
export const edgePorts = { status: 10088, accessLog: 10514, agent: 10090 } as const;
const configDir = "/etc/edgefleet/config";
const runDir = "/run/edgefleet";
const tlsDir = "/etc/edgefleet/tls";
/** Where edge pods and fill Jobs mount the cluster's link-key Secret. */
export const linkKeysDir = "/etc/edgefleet/link-keys";

export type EdgeOptions = Readonly<{ agentServiceAccount: string }>;
export type EdgeObjects = Readonly<{ configMap: KubeObject; daemonSet: KubeObject }>;

export const edgeName = (cluster: string): string => `edge-${cluster}`;
/** The cluster's link-key Secret, in its namespace. */
export const linkKeysSecretName = (cluster: string): string => `edge-${cluster}-link-keys`;

/** The Secret volume of the cluster's link keys: readable by the edge user (fsGroup), by no one else. */
export const linkKeysVolume = (cluster: string) => ({
  name: "link-keys",
  secret: { secretName: linkKeysSecretName(cluster), defaultMode: 0o440 },
});
export const linkKeysMount = { name: "link-keys", mountPath: linkKeysDir, readOnly: true } as const;

/**
 * The cluster's link-key Secret: per kid of the master keys, the cluster's key derived from that
 * master (`<kid>.key`, base64url), and `primary`. Its edge accepts every kid in it, and fills sign
 * peer fetches with the primary. Applied whole (server-side apply), so a kid removed from the masters
 * leaves it too.
 */
export function linkKeysSecret(
  c: OCACluster,
  masters: LinkKeyring,
  owner: KubeObject["metadata"]["ownerReferences"],
): KubeObject {
  const namespace = c.metadata.namespace ?? "default";
  const entries = clusterKeyEntries(masters, namespace, c.metadata.name);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: linkKeysSecretName(c.metadata.name),
      namespace,
      labels: { "app.kubernetes.io/name": "edgefleet-edge", [clusterLabel]: c.metadata.name },
      ownerReferences: owner,
    },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

export function edgeSettings(c: OCACluster): EdgeSettingsInput {
  return {
    httpPort: c.spec.edge.httpPort,
    httpsPort: c.spec.edge.httpsPort,
    statusPort: edgePorts.status,
    contentPath: c.spec.edge.contentPath,
    certPath: `${tlsDir}/tls.crt`,
    keyPath: `${tlsDir}/tls.key`,
    ktls: c.spec.edge.ktls,
    linkKeysDir,
    linkVerifierPath: `${runDir}/edgefleet-link.js`,
    runDir: `${runDir}/nginx`,
    accessLogUdpPort: edgePorts.accessLog,
    // No `user`: nginx runs as the edge user, master and workers alike.
  };
}

/** The agent's settings; `servers` maps node name → server name, so one ConfigMap serves every pod. */
export function serveConfig(c: OCACluster): ServeConfigInput & { cluster: string; servers: Record<string, string> } {
  return {
    namespace: c.metadata.namespace ?? "default",
    cluster: c.metadata.name,
    servers: Object.fromEntries(c.spec.servers.map((s) => [s.node, s.name])),
    ktls: c.spec.edge.ktls,
    contentPath: c.spec.edge.contentPath,
    statusUrl: `http://127.0.0.1:${edgePorts.status}/nginx_status`,
    accessLogUdpPort: edgePorts.accessLog,
    metricsPort: edgePorts.agent,
  };
}

/** Throws EdgeSettingsError naming the field when the cluster's edge settings cannot make an nginx.conf. */
export function edgeObjects(
  c: OCACluster,
  o: EdgeOptions,
  owner: KubeObject["metadata"]["ownerReferences"],
): EdgeObjects {
  const settings = edgeSettings(c);
  renderNginxConf(settings); // validate now, so a bad spec is a condition on the cluster, not a crash-looping pod
  const name = edgeName(c.metadata.name);
  const namespace = c.metadata.namespace;
  const labels = { "app.kubernetes.io/name": "edgefleet-edge", "cdn.edgefleet.dev/cluster": c.metadata.name };
  const image = c.spec.edge.image;
  const configMap: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels, ownerReferences: owner },
    data: { "edge.yaml": JSON.stringify(settings, null, 2), "serve.yaml": JSON.stringify(serveConfig(c), null, 2) },
  };
  const mounts = {
    config: { name: "config", mountPath: configDir, readOnly: true },
    run: { name: "run", mountPath: runDir },
    content: { name: "content", mountPath: c.spec.edge.contentPath, readOnly: true },
  };
  const daemonSet: KubeObject = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, labels, ownerReferences: owner },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          serviceAccountName: o.agentServiceAccount,
          affinity: {
            nodeAffinity: {
              // One term per node (terms are ORed): a field selector takes a single value.
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: c.spec.servers.map((s) => ({
                  matchFields: [{ key: "metadata.name", operator: "In", values: [s.node] }],
                })),
              },
            },
          },
          tolerations: [{ key: "cdn.edgefleet.dev/edge", operator: "Exists" }],
          securityContext: edgePodSecurity,
          automountServiceAccountToken: false,
          initContainers: [
            {
              name: "init",
              image,
              args: ["init", "--settings", `${configDir}/edge.yaml`, "--out", runDir],
              securityContext: restrictedContainer,
              volumeMounts: [mounts.config, mounts.run],
            },
          ],
          containers: [
            {
              name: "nginx",
              image,
              // -e: the log nginx opens before reading its configuration (its default is on the read-only image).
              command: ["nginx", "-c", `${runDir}/nginx.conf`, "-e", "stderr", "-g", "daemon off;"],
              ports: [
                { name: "http", containerPort: c.spec.edge.httpPort },
                { name: "https", containerPort: c.spec.edge.httpsPort },
              ],
              securityContext: nginxSecurity,
              volumeMounts: [
                mounts.run,
                mounts.content,
                { name: "tls", mountPath: tlsDir, readOnly: true },
                linkKeysMount,
              ],
            },
            {
              name: "agent",
              image,
              args: ["serve", "--config", `${configDir}/serve.yaml`, "--node", "$(NODE_NAME)"],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              ports: [{ name: "agent", containerPort: edgePorts.agent }],
              readinessProbe: { httpGet: { path: "/readyz", port: edgePorts.agent }, periodSeconds: 10 },
              livenessProbe: { httpGet: { path: "/healthz", port: edgePorts.agent }, periodSeconds: 20 },
              securityContext: restrictedContainer,
              volumeMounts: [mounts.config, mounts.content, apiAccessMount],
            },
          ],
          volumes: [
            apiAccessVolume,
            { name: "config", configMap: { name } },
            { name: "run", emptyDir: {} },
            { name: "content", hostPath: { path: c.spec.edge.contentPath, type: "DirectoryOrCreate" } },
            { name: "tls", secret: { secretName: c.spec.edge.tlsSecret } },
            linkKeysVolume(c.metadata.name),
          ],
        },
      },
    },
  };
  return { configMap, daemonSet };
}
