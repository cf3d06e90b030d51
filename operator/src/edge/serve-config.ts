/**
 * The edge agent's serve settings: the operator renders them into the edge ConfigMap
 * (controllers/edge-plan.ts) and the agent reads them (nodes/src/serve/config.ts), so the schema is
 * here, where both can import it.
 */
import { z } from "zod";
import { dnsLabel, maxLeaseDurationSeconds } from "../api/index.js";

/** serve mode's settings: one ConfigMap for the whole DaemonSet; the node name comes from the pod (--node). */
export const ServeConfig = z
  .object({
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
    /** How often the agent renews its Lease: at most a third of leaseDurationSeconds. */
    heartbeatSeconds: z
      .number()
      .min(1)
      .max(maxLeaseDurationSeconds / 3)
      .default(10),
    /**
     * Steering and the operator count the server dead this long after they last saw its Lease renewed
     * (api/heartbeat.ts heartbeatExpiry).
     */
    leaseDurationSeconds: z.int().min(3).max(maxLeaseDurationSeconds).default(30),
  })
  // Renewing well inside the lease: a server survives two missed or slow renewals before it is dropped.
  .refine((c) => c.heartbeatSeconds * 3 <= c.leaseDurationSeconds, {
    path: ["heartbeatSeconds"],
    message: "must be at most a third of leaseDurationSeconds, so the Lease outlives two missed renewals",
  });
export type ServeConfig = z.output<typeof ServeConfig>;
export type ServeConfigInput = z.input<typeof ServeConfig>;
