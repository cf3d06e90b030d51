import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, dnsLabel } from "../../../operator/src/api/index.js";

/** serve mode's settings: one ConfigMap for the whole DaemonSet; the node name comes from the pod (--node). */
export const ServeConfig = z.object({
  /** Where the heartbeat Leases go: the OCACluster's namespace. */
  namespace: z.string().min(1),
  /** The OCACluster this DaemonSet serves; the heartbeat Lease is named and labelled by it. */
  cluster: dnsLabel,
  /** Node name → OCACluster server name, so one ConfigMap serves every pod of the DaemonSet. */
  servers: z.record(z.string().min(1), dnsLabel).default({}),
  ktls: z.enum(["auto", "required", "off"]),
  contentPath: z.string().regex(/^\//, "must be an absolute path"),
  /** nginx's stub_status, on loopback. */
  statusUrl: z.url({ protocol: /^http$/ }),
  /** Where nginx sends its per-request syslog lines (EdgeSettings.accessLogUdpPort). */
  accessLogUdpPort: z.int().min(1).max(65535),
  /** The agent's own /metrics, /healthz, /readyz. */
  metricsPort: z.int().min(1).max(65535),
  metricsAddress: z.string().default("0.0.0.0"),
  heartbeatSeconds: z.number().min(1).max(300).default(10),
  /** Steering drops a server whose Lease is older than this. */
  leaseDurationSeconds: z.int().min(3).max(3600).default(30),
});
export type ServeConfig = z.output<typeof ServeConfig>;
export type ServeConfigInput = z.input<typeof ServeConfig>;

export class ServeConfigError extends Error {
  override name = "ServeConfigError";
}

export function parseServeConfig(input: unknown): ServeConfig {
  const r = ServeConfig.safeParse(input);
  if (!r.success)
    throw new ServeConfigError(`invalid serve config: ${describeIssues("serve", r.error)}`, { cause: r.error });
  return r.data;
}

/** The server this pod is: --server when given, else its node's entry in `servers`. */
export function serverFor(cfg: ServeConfig, node: string, override: string | undefined): string {
  if (override !== undefined) return override;
  const s = cfg.servers[node];
  if (s === undefined) {
    throw new ServeConfigError(
      `--node: node ${JSON.stringify(node)} is not in serve.servers of cluster ${cfg.cluster}; pass --server or add it`,
    );
  }
  return s;
}

export async function loadServeConfig(path: string): Promise<ServeConfig> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, "utf8"));
  } catch (err) {
    throw new ServeConfigError(`reading serve config ${path}`, { cause: err });
  }
  return parseServeConfig(doc);
}
