/**
 * The edge pods of an OCACluster, as a pure function of its spec: a ConfigMap with the nginx settings
 * and the agent's serve settings, and a DaemonSet on exactly the cluster's nodes. Each pod runs, on the
 * host network so clients reach the server's own addresses, every container as the edge user
 * (pod-security.ts):
 *   init   edgefleet-agent init: renders nginx.conf and the URL-signing include (validates both first)
 *   nginx  serves the host's content disk, read-only, with sendfile and kTLS where the kernel has it
 *   agent  edgefleet-agent serve: heartbeat Lease (with the kTLS state), /metrics, /readyz (kTLS required)
 * Only the agent holds API credentials.
 */

import type { OCACluster } from "../api/index.js";
import { type EdgeSettingsInput, renderNginxConf } from "../edge/nginx-config.js";
import type { ServeConfigInput } from "../edge/serve-config.js";
import type { KubeObject } from "../runtime/kube.js";
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
const signingDir = "/etc/edgefleet/signing";

export type EdgeOptions = Readonly<{ signingSecret: string; agentServiceAccount: string }>;
export type EdgeObjects = Readonly<{ configMap: KubeObject; daemonSet: KubeObject }>;

export const edgeName = (cluster: string): string => `edge-${cluster}`;

export function edgeSettings(c: OCACluster): EdgeSettingsInput {
  return {
    httpPort: c.spec.edge.httpPort,
    httpsPort: c.spec.edge.httpsPort,
    statusPort: edgePorts.status,
    contentPath: c.spec.edge.contentPath,
    certPath: `${tlsDir}/tls.crt`,
    keyPath: `${tlsDir}/tls.key`,
    ktls: c.spec.edge.ktls,
    secretIncludePath: `${runDir}/secret.conf`,
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
              args: ["init", "--settings", `${configDir}/edge.yaml`, "--secret", `${signingDir}/key`, "--out", runDir],
              securityContext: restrictedContainer,
              volumeMounts: [mounts.config, mounts.run, { name: "signing", mountPath: signingDir, readOnly: true }],
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
              volumeMounts: [mounts.run, mounts.content, { name: "tls", mountPath: tlsDir, readOnly: true }],
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
            { name: "signing", secret: { secretName: o.signingSecret } },
          ],
        },
      },
    },
  };
  return { configMap, daemonSet };
}
