/**
 * A real local Kubernetes control plane without Docker: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler built from Go modules (hack/bins.sh), started by kwokctl's binary runtime on loopback,
 * with kwok-controller standing in for kubelets (its fake nodes run pods and complete Jobs).
 *
 * One data directory per cluster under the work directory; component logs stay there for debugging
 * (`<workdir>/clusters/<name>/logs`). `up` and `down` are idempotent.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = dirname(dirname(fileURLToPath(import.meta.url)));

export const controlPlaneBinaries = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "kwok",
  "kwokctl",
] as const;
export type BinaryName =
  | (typeof controlPlaneBinaries)[number]
  | "helm"
  | "kubeconform"
  | "kind"
  | "pulumi"
  | "pulumi-resource-kubernetes";

export type Cluster = Readonly<{ name: string; workdir: string; kubeconfig: string; logs: string }>;

export class ClusterError extends Error {
  override name = "ClusterError";
}

export function defaultWorkdir(): string {
  return (
    process.env.EDGEFLEET_CLUSTER_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "edgefleet")
  );
}

function clusterOf(name: string, workdir: string): Cluster {
  const dir = join(workdir, "clusters", name);
  return { name, workdir, kubeconfig: join(dir, "kubeconfig.yaml"), logs: join(dir, "logs") };
}

/** Paths of the pinned binaries, building any that are not in the cache yet (this can take minutes, cold). */
export async function ensureBinaries<N extends BinaryName>(names: readonly N[]): Promise<Record<N, string>> {
  const { stdout } = await run("bash", [join(repo, "hack/bins.sh"), ...names], {
    maxBuffer: 16 << 20,
    timeout: 80 * 60_000,
  }).catch((err: unknown) => {
    throw new ClusterError(`hack/bins.sh ${names.join(" ")} failed: ${stderrOf(err)}`, { cause: err });
  });
  const paths: Partial<Record<string, string>> = {};
  for (const line of stdout.trim().split("\n")) {
    const [name, path] = line.split(" ");
    if (name && path) paths[name] = path;
  }
  for (const n of names) if (!paths[n]) throw new ClusterError(`hack/bins.sh printed no path for ${n}`);
  return paths as Record<N, string>;
}

export function stderrOf(err: unknown): string {
  if (err && typeof err === "object" && "stderr" in err && typeof err.stderr === "string" && err.stderr.trim()) {
    return err.stderr.trim().split("\n").slice(-15).join("\n");
  }
  return err instanceof Error ? err.message : String(err);
}

async function kwokctl(bins: Record<"kwokctl", string>, workdir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(bins.kwokctl, args, {
      env: { ...process.env, KWOK_WORKDIR: workdir },
      maxBuffer: 16 << 20,
      timeout: 10 * 60_000,
    });
    return stdout;
  } catch (err) {
    throw new ClusterError(`kwokctl ${args.join(" ")} failed: ${stderrOf(err)}`, { cause: err });
  }
}

/** True when the API server behind the kubeconfig answers /readyz. */
export async function isReady(kubectl: string, kubeconfig: string): Promise<boolean> {
  if (!existsSync(kubeconfig)) return false;
  try {
    const { stdout } = await run(kubectl, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], { timeout: 10_000 });
    return stdout.trim() === "ok";
  } catch {
    return false;
  }
}

async function listClusters(bins: Record<"kwokctl", string>, workdir: string): Promise<string[]> {
  const out = await kwokctl(bins, workdir, ["get", "clusters"]);
  return out.split("\n").filter(Boolean);
}

/** Extra flags per component, given when the cluster is created (a benchmark's client rate limits). */
export type ClusterOptions = Readonly<{
  extraArgs?: Partial<Record<(typeof controlPlaneBinaries)[number], Record<string, string>>>;
}>;

/**
 * Starts the cluster (creating it the first time, restarting its components if they were stopped) and
 * waits until the API server is ready and the default service account exists.
 */
export async function clusterUp(
  name = "edgefleet",
  workdir = defaultWorkdir(),
  opts: ClusterOptions = {},
): Promise<Cluster> {
  const bins = await ensureBinaries(controlPlaneBinaries);
  const cluster = clusterOf(name, workdir);
  if (await isReady(bins.kubectl, cluster.kubeconfig)) return cluster;
  await mkdir(workdir, { recursive: true });
  if ((await listClusters(bins, workdir)).includes(name)) {
    await kwokctl(bins, workdir, ["start", "cluster", "--name", name, "--wait", "3m"]);
  } else {
    const config = join(workdir, `kwokctl-${name}.yaml`);
    await writeFile(config, kwokctlConfig(bins, opts.extraArgs ?? {}));
    await kwokctl(bins, workdir, [
      "--config",
      config,
      "create",
      "cluster",
      "--name",
      name,
      "--runtime",
      "binary",
      "--kubeconfig",
      "",
      "--wait",
      "3m",
      "--quiet-pull",
    ]);
  }
  await waitFor(() => isReady(bins.kubectl, cluster.kubeconfig), 120_000, "kube-apiserver /readyz");
  await waitFor(
    () => succeeds(bins.kubectl, ["--kubeconfig", cluster.kubeconfig, "get", "serviceaccount", "default"]),
    120_000,
    "the default service account (kube-controller-manager)",
  );
  return cluster;
}

/**
 * Stops the cluster's components (kube-apiserver, etcd and the rest) and keeps its data: `clusterUp`
 * starts them again where they were. For tests of what an API server outage does to its clients.
 */
export async function clusterStop(name = "edgefleet", workdir = defaultWorkdir()): Promise<void> {
  const bins = await ensureBinaries(["kwokctl"]);
  await kwokctl(bins, workdir, ["stop", "cluster", "--name", name]);
}

/** Stops and deletes the cluster: no process stays behind. Deleting a cluster that does not exist is fine. */
export async function clusterDown(name = "edgefleet", workdir = defaultWorkdir()): Promise<void> {
  const bins = await ensureBinaries(["kwokctl"]);
  if (!existsSync(workdir) || !(await listClusters(bins, workdir)).includes(name)) return;
  await kwokctl(bins, workdir, ["delete", "cluster", "--name", name]);
}

/** The running processes of a cluster (found by its data directory on their command line) and their RSS. */
export async function componentMemory(
  name = "edgefleet",
  workdir = defaultWorkdir(),
): Promise<{ component: string; pid: number; rssMB: number }[]> {
  const marker = `${join(workdir, "clusters", name)}/bin/`;
  const found = [];
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const exe = cmdline.split("\0")[0] ?? "";
    if (!exe.startsWith(marker)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    found.push({ component: exe.slice(marker.length), pid: Number(pid), rssMB: Math.round(kb / 1024) });
  }
  return found.sort((a, b) => a.component.localeCompare(b.component));
}

function kwokctlConfig(
  bins: Record<(typeof controlPlaneBinaries)[number], string>,
  extraArgs: NonNullable<ClusterOptions["extraArgs"]>,
): string {
  const patches = Object.entries(extraArgs).flatMap(([component, args]) => [
    `- name: ${component}`,
    "  extraArgs:",
    ...Object.entries(args ?? {}).flatMap(([key, value]) => [`  - key: ${key}`, `    value: "${value}"`]),
  ]);
  // kwokctl's binary runtime "downloads" a local path by linking it: nothing leaves this machine.
  return `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: ${kubeVersion(bins["kube-apiserver"])}
  kubeAuthorization: true
  quietPull: true
  etcdBinary: ${bins.etcd}
  kubeApiserverBinary: ${bins["kube-apiserver"]}
  kubeControllerManagerBinary: ${bins["kube-controller-manager"]}
  kubeSchedulerBinary: ${bins["kube-scheduler"]}
  kubectlBinary: ${bins.kubectl}
  kwokControllerBinary: ${bins.kwok}
${patches.length ? `componentsPatches:\n${patches.join("\n")}\n` : ""}`;
}

function kubeVersion(apiserverPath: string): string {
  const m = /-(v\d+\.\d+\.\d+)$/.exec(apiserverPath);
  if (!m?.[1]) throw new ClusterError(`cannot read the Kubernetes version from ${apiserverPath}`);
  return m[1];
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new ClusterError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
