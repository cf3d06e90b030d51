/**
 * `edgefleet operator` and `edgefleet steering`: the long-running processes the chart deploys. Flags are
 * parsed and checked here, once (the only place that reads process.env); SIGTERM and SIGINT stop them
 * cleanly: the operator releases its leader Lease, both close their listeners.
 */
import cluster from "node:cluster";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { type Logger, pino } from "pino";
import { z } from "zod";
import { defaultContentRoot, parseBytes } from "../api/index.js";
import { contentRootProblem, defaultAllowedEdgeImages, type EdgePolicy } from "../controllers/edge-policy.js";
import { startOperator } from "../operator.js";
import { watchKeyDir } from "../runtime/key-dir.js";
import { Kube } from "../runtime/kube.js";
import { parseSteeringConfig, SteeringConfigError, type SteeringServiceConfig } from "../steering/http.js";
import { type LinkKeySource, parseMasterKeys } from "../steering/link-keys.js";
import { startSteering } from "../steering/process.js";
import { defaultWorkers, onStopFromPrimary, startSteeringPrimary } from "../steering/workers.js";

export class FlagError extends Error {
  override name = "FlagError";
}

const port = (flag: string) =>
  z.coerce
    .number()
    .int()
    .min(0)
    .max(65535, { message: `${flag}: must be a port number (0-65535)` });
const level = z.enum(["trace", "debug", "info", "warn", "error", "fatal"]);

function check<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new FlagError(`${flag}: ${r.error.issues.map((i) => i.message).join("; ")}`);
  return r.data;
}

function stopSignal(): AbortSignal {
  const ac = new AbortController();
  for (const s of ["SIGTERM", "SIGINT"] as const) process.once(s, () => ac.abort());
  if (cluster.isWorker) onStopFromPrimary(() => ac.abort());
  return ac.signal;
}

export async function runOperator(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "watch-namespace": { type: "string" },
      identity: { type: "string" },
      "lease-namespace": { type: "string", default: "default" },
      "lease-name": { type: "string", default: "edgefleet-operator" },
      "health-port": { type: "string", default: "8081" },
      "agent-service-account": { type: "string", default: "edgefleet-agent" },
      /** The master URL-signing keys, the Secret mounted as a directory (link-keys.ts). */
      "url-signing-keys-dir": { type: "string" },
      /** Steering's --url-ttl-seconds (the chart passes the same value to both). */
      "url-ttl-seconds": { type: "string", default: "21600" },
      /** Evict this long after promotion; defaults to --url-ttl-seconds. Lower only in tests. */
      "evict-delay-seconds": { type: "string" },
      "keep-superseded": { type: "string", default: "3" },
      "job-ttl-seconds": { type: "string", default: "86400" },
      "content-root": { type: "string", default: defaultContentRoot },
      "allowed-edge-image": { type: "string", multiple: true, default: [] },
      "log-level": { type: "string", default: "info" },
      kubeconfig: { type: "string" },
    },
  });
  const log = pino({
    level: check(level, values["log-level"], "--log-level"),
    base: { component: "edgefleet-operator" },
  });
  const fill = fillFlags(values);
  if (fill.evictDelaySeconds < fill.urlTtlSeconds) {
    log.warn(
      { evictDelaySeconds: fill.evictDelaySeconds, urlTtlSeconds: fill.urlTtlSeconds },
      "--evict-delay-seconds is shorter than the signed-URL lifetime: clients holding older URLs may find their files evicted",
    );
  }
  const edgePolicy = edgePolicyFlags(values["content-root"], values["allowed-edge-image"]);
  const signal = stopSignal();
  const linkKeys = await linkKeysFlag(values["url-signing-keys-dir"], log, signal);
  const op = await startOperator(
    {
      kube: await Kube.connect(values.kubeconfig),
      log,
      namespace: values["watch-namespace"] || undefined,
      identity: values.identity || `${hostname()}-${process.pid}`,
      leaseNamespace: values["lease-namespace"],
      leaseName: values["lease-name"],
      healthPort: check(port("--health-port"), values["health-port"], "--health-port"),
      agentServiceAccount: values["agent-service-account"],
      linkKeys,
      fill,
      edgePolicy,
    },
    signal,
  );
  log.info({ healthPort: values["health-port"], edgePolicy }, "operator started");
  await op.done;
  return 0;
}

/**
 * The fill lifecycle's flags. Evict waits the signed-URL lifetime after a promotion unless
 * --evict-delay-seconds says otherwise (an e2e run that cannot wait six hours).
 */
function fillFlags(values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>) {
  const seconds = (flag: string, min: number) =>
    check(
      z.coerce
        .number()
        .int()
        .min(min)
        .max(30 * 86400),
      values[flag.slice(2)],
      flag,
    );
  const urlTtlSeconds = seconds("--url-ttl-seconds", 60);
  return {
    urlTtlSeconds,
    evictDelaySeconds:
      values["evict-delay-seconds"] === undefined ? urlTtlSeconds : seconds("--evict-delay-seconds", 0),
    keepSuperseded: check(z.coerce.number().int().min(0).max(100), values["keep-superseded"], "--keep-superseded"),
    jobTtlSeconds: seconds("--job-ttl-seconds", 0),
  };
}

/**
 * The steering flags that set one numeric setting each (steering/http.ts SteeringServiceConfig): the
 * setting's own schema checks the value and its default applies when the flag is absent, so the chart,
 * the CLI and the service cannot disagree on either.
 */
const serviceFlags = {
  "max-clusters": "maxClusters",
  "url-ttl-seconds": "urlTtlSeconds",
  "stale-while-error-seconds": "staleWhileErrorSeconds",
  "max-connections": "maxConnections",
  "headers-timeout-seconds": "headersTimeoutSeconds",
  "request-timeout-seconds": "requestTimeoutSeconds",
  "keep-alive-timeout-seconds": "keepAliveTimeoutSeconds",
  "rate-limit-per-second": "rateLimitPerSecond",
  "rate-limit-burst": "rateLimitBurst",
} as const satisfies Record<string, keyof SteeringServiceConfig>;
type ServiceFlag = keyof typeof serviceFlags;

const flagOf = (setting: unknown): string =>
  setting === "manifestCacheBytes"
    ? "--manifest-cache-size"
    : `--${Object.entries(serviceFlags).find(([, k]) => k === setting)?.[0] ?? String(setting)}`;

/** The service's settings from the flags; a bad value is a FlagError naming the flag. */
export function steeringServiceConfig(
  values: Partial<Record<ServiceFlag | "manifest-cache-size", string>> & { "trusted-proxy"?: string[] },
): SteeringServiceConfig {
  const config: Record<string, unknown> = { trustedProxies: values["trusted-proxy"] ?? [] };
  for (const [flag, setting] of Object.entries(serviceFlags)) {
    const v = values[flag as ServiceFlag];
    if (v !== undefined) config[setting] = check(z.coerce.number(), v, `--${flag}`);
  }
  const size = values["manifest-cache-size"];
  if (size !== undefined) {
    try {
      config.manifestCacheBytes = size === "0" ? 0 : parseBytes(size);
    } catch (err) {
      throw new FlagError(`--manifest-cache-size: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  try {
    return parseSteeringConfig(config);
  } catch (err) {
    if (!(err instanceof SteeringConfigError && err.cause instanceof z.ZodError)) throw err;
    const issues = err.cause.issues.map((i) => `${flagOf(i.path[0])}: ${i.message}`);
    throw new FlagError(issues.join("; "), { cause: err });
  }
}

/**
 * --content-root (one; every cluster's contentPath must be inside it) and --allowed-edge-image (one per
 * repository prefix; none given: the project's edge image only).
 */
export function edgePolicyFlags(contentRoot: string, images: readonly string[]): EdgePolicy {
  const problem = contentRootProblem(contentRoot);
  if (problem) throw new FlagError(`--content-root: ${problem}`);
  const bad = images.find((i) => !/^[^\s@]+$/.test(i));
  if (bad !== undefined) throw new FlagError(`--allowed-edge-image: ${JSON.stringify(bad)} is not an image repository`);
  return { contentRoot, allowedImages: images.length > 0 ? images : defaultAllowedEdgeImages };
}

/** How often the master keys' directory is read again: the kubelet updates a mounted Secret within about a minute. */
const KEYS_POLL_MS = 10_000;

/**
 * --url-signing-keys-dir: the master URL-signing keys (the Secret, mounted as a directory: `<kid>.key`
 * entries and `primary`), read now and every 10 s, so a rotation needs no restart. A FlagError when the
 * flag is missing or the directory does not hold valid keys.
 */
async function linkKeysFlag(dir: string | undefined, log: Logger, signal: AbortSignal): Promise<LinkKeySource> {
  const flag = "--url-signing-keys-dir";
  if (!dir) throw new FlagError(`${flag}: required (the master keys every cluster's link keys derive from)`);
  try {
    return await watchKeyDir(dir, parseMasterKeys, { intervalMs: KEYS_POLL_MS, log, signal });
  } catch (err) {
    throw new FlagError(`${flag}: ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export async function runSteering(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "watch-namespace": { type: "string" },
      port: { type: "string", default: "8080" },
      "health-port": { type: "string", default: "8081" },
      host: { type: "string", default: "0.0.0.0" },
      "trusted-proxy": { type: "string", multiple: true, default: [] },
      ...Object.fromEntries(Object.keys(serviceFlags).map((f) => [f, { type: "string" } as const])),
      "manifest-cache-size": { type: "string" },
      "url-signing-keys-dir": { type: "string" },
      "log-level": { type: "string", default: "info" },
      kubeconfig: { type: "string" },
      /** Processes serving (steering/workers.ts); "auto" or 0: the CPUs of the cgroup's quota, else the cores. */
      workers: { type: "string", default: "auto" },
    },
  });
  const log = pino({
    level: check(level, values["log-level"], "--log-level"),
    base: { component: "edgefleet-steering", ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) },
  });
  const workers =
    values.workers === "auto"
      ? defaultWorkers()
      : check(z.coerce.number().int().min(0).max(256), values.workers, "--workers") || defaultWorkers();
  const total = steeringServiceConfig(values as Parameters<typeof steeringServiceConfig>[0]);
  // --manifest-cache-size is the pod's: each worker keeps its share.
  const config = cluster.isWorker
    ? { ...total, manifestCacheBytes: Math.floor(total.manifestCacheBytes / workers) }
    : total;
  const signal = stopSignal();
  const linkKeys = await linkKeysFlag(values["url-signing-keys-dir"], log, signal);
  const healthPort = check(port("--health-port"), values["health-port"], "--health-port");
  if (workers > 1 && cluster.isPrimary) {
    // Flags and keys checked above, so a bad one fails here once rather than in every worker.
    const primary = await startSteeringPrimary({ workers, healthPort, host: values.host, log }, signal);
    await primary.done;
    return 0;
  }
  const st = await startSteering(
    {
      kube: await Kube.connect(values.kubeconfig),
      log,
      namespace: values["watch-namespace"] || undefined,
      port: check(port("--port"), values.port, "--port"),
      healthPort: cluster.isWorker ? "primary" : healthPort,
      host: values.host,
      linkKeys,
      config,
    },
    signal,
  );
  log.info({ port: values.port }, "steering started");
  await st.done;
  // A worker's channel to its primary would keep it alive.
  if (cluster.isWorker) process.disconnect();
  return 0;
}
