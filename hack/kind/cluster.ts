/**
 * A kind cluster with real nodes, built and run offline: Docker Engine (hack/kind/docker.sh), the node
 * image and the app images (hack/kind/images.sh), then `kind create cluster` with one control-plane node
 * and edge workers. Every step writes its output to a log of its own; a failure is a KindStepError whose
 * one-line message names the step and its log.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensureBinaries } from "../local-cluster.js";

const run = promisify(execFile);
const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export const kindCacheDir = (): string =>
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "edgefleet", "kind");
export const kindLogsDir = (): string => process.env.EDGEFLEET_KIND_LOGS ?? join(kindCacheDir(), "logs");

/** A step of bringing the cluster up or down failed; `message` is the one line a user needs. */
export class KindStepError extends Error {
  override name = "KindStepError";
  constructor(
    readonly step: string,
    readonly log: string,
    options?: ErrorOptions,
  ) {
    super(`edgefleet kind: step '${step}' failed; see ${log}`, options);
  }
}

/**
 * Runs one command as a named step, appending its output to `<logs>/<step>.log`; returns its stdout.
 * Throws KindStepError on a non-zero exit or after `timeoutMs`.
 */
export async function step(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<string> {
  const logs = kindLogsDir();
  await mkdir(logs, { recursive: true });
  const log = join(logs, `${name}.log`);
  await appendFile(log, `\n$ ${cmd} ${args.join(" ")}\n`);
  try {
    const p = run(cmd, [...args], {
      env: { ...process.env, ...opts.env },
      maxBuffer: 256 << 20,
      timeout: opts.timeoutMs ?? 10 * 60_000,
    });
    if (opts.input !== undefined) p.child.stdin?.end(opts.input);
    const { stdout, stderr } = await p;
    await appendFile(log, `${stdout}${stderr}`);
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    await appendFile(log, `${e.stdout ?? ""}${e.stderr ?? ""}\n${err instanceof Error ? err.message : String(err)}\n`);
    throw new KindStepError(name, log, { cause: err });
  }
}

export type DockerState = Readonly<{ startedByUs: boolean }>;

/** Starts Docker Engine unless one answers (installing it from Debian when missing). */
export async function ensureDocker(): Promise<DockerState> {
  const out = await step("docker", "bash", [join(repo, "hack/kind/docker.sh"), "start"], { timeoutMs: 15 * 60_000 });
  return { startedByUs: out.includes("docker started") };
}

/** Stops Docker Engine if ensureDocker started it; a user's own dockerd stays. */
export async function stopDocker(): Promise<void> {
  await step("docker", "bash", [join(repo, "hack/kind/docker.sh"), "stop"]);
}

/** The kind node image, built when missing (cold: Go builds of kubelet, kubeadm, CoreDNS…). */
export async function nodeImage(): Promise<string> {
  const out = await step("images", "bash", [join(repo, "hack/kind/images.sh"), "node"], { timeoutMs: 75 * 60_000 });
  const image = /^node (\S+)/m.exec(out)?.[1];
  if (!image) throw new KindStepError("images", join(kindLogsDir(), "images.log"));
  return image;
}

/** edgefleet:<tag> (operator and steering) and edgefleet-edge:<tag>, from the repository's Dockerfiles. */
export async function appImages(tag: string): Promise<{ operator: string; edge: string }> {
  await step("images", "bash", [join(repo, "hack/kind/images.sh"), "app", tag], { timeoutMs: 30 * 60_000 });
  return { operator: `edgefleet:${tag}`, edge: `edgefleet-edge:${tag}` };
}

export type KindNode = Readonly<{ name: string; role: "control-plane" | "worker"; ipv4: string }>;
export type KindCluster = Readonly<{ name: string; kubeconfig: string; nodes: readonly KindNode[] }>;

/** Workers carry this label; the e2e fleet and the demo make them the OCACluster's servers. */
export const edgeNodeLabel = "cdn.edgefleet.dev/edge-node";

function kindConfig(workers: number): string {
  const worker = `  - role: worker\n    labels:\n      ${edgeNodeLabel}: "true"\n`;
  // kindnetd is not on the Go module proxy: the node image's edgefleet-podnet networks pods instead.
  // kubelet >= 1.35 refuses cgroup v1 unless told otherwise; on cgroup v2 the setting changes nothing.
  return `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
nodes:
  - role: control-plane
${worker.repeat(workers)}`;
}

const kindBin = async () => (await ensureBinaries(["kind"])).kind;

/** The cluster's nodes as Docker sees them: name, role and address on kind's network. */
export async function kindNodes(name: string): Promise<KindNode[]> {
  const ids = (await step("kind-nodes", "docker", ["ps", "-q", "--filter", `label=io.x-k8s.kind.cluster=${name}`]))
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  const out = await step("kind-nodes", "docker", [
    "inspect",
    "-f",
    '{{.Name}} {{index .Config.Labels "io.x-k8s.kind.role"}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
    ...ids,
  ]);
  return out
    .trim()
    .split("\n")
    .map((l) => {
      const [n = "", role = "", ipv4 = ""] = l.trim().split(" ");
      return { name: n.replace(/^\//, ""), role: role === "control-plane" ? "control-plane" : "worker", ipv4 } as const;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function kindClusterExists(name: string): Promise<boolean> {
  const out = await step("kind-get", await kindBin(), ["get", "clusters"]);
  return out.split("\n").includes(name);
}

/**
 * Creates the cluster (one control-plane node and `workers` edge nodes) from the offline node image and
 * waits for every node to be Ready. An existing cluster of that name is used as it is.
 */
export async function createKindCluster(o: { name: string; image: string; workers: number }): Promise<KindCluster> {
  const kind = await kindBin();
  const kubeconfig = join(kindCacheDir(), `${o.name}.kubeconfig`);
  await mkdir(kindCacheDir(), { recursive: true });
  if (!(await kindClusterExists(o.name))) {
    const config = join(kindCacheDir(), `${o.name}.yaml`);
    await writeFile(config, kindConfig(o.workers));
    await step(
      "kind-create",
      kind,
      ["create", "cluster", "--name", o.name, "--image", o.image, "--config", config, "--kubeconfig", kubeconfig],
      { timeoutMs: 15 * 60_000 },
    );
  } else if (!existsSync(kubeconfig)) {
    await writeFile(kubeconfig, await step("kind-kubeconfig", kind, ["get", "kubeconfig", "--name", o.name]));
  }
  const { kubectl } = await ensureBinaries(["kubectl"]);
  await podNetworkToken(o.name, kubeconfig, kubectl);
  await step(
    "kind-ready",
    kubectl,
    ["--kubeconfig", kubeconfig, "wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s"],
    { timeoutMs: 320_000 },
  );
  return { name: o.name, kubeconfig, nodes: await kindNodes(o.name) };
}

/**
 * The node image's edgefleet-podnet routes to other nodes' pod CIDRs with a token that may list Nodes
 * (kubelet's credentials may read their own Node only): create the account, copy its token into each node.
 */
async function podNetworkToken(name: string, kubeconfig: string, kubectl: string): Promise<void> {
  const k = (...args: string[]) => step("kind-podnet", kubectl, ["--kubeconfig", kubeconfig, ...args]);
  await k("apply", "-f", join(repo, "hack/kind/podnet-rbac.yaml"));
  let token = "";
  for (let i = 0; i < 60 && !token; i++) {
    token = await k("-n", "kube-system", "get", "secret", "edgefleet-podnet-token", "-o", "jsonpath={.data.token}");
    if (!token) await new Promise((r) => setTimeout(r, 500));
  }
  if (!token) throw new KindStepError("kind-podnet", join(kindLogsDir(), "kind-podnet.log"));
  const plain = Buffer.from(token, "base64").toString();
  for (const n of await kindNodes(name)) {
    await step(
      "kind-podnet",
      "docker",
      ["exec", "-i", n.name, "sh", "-c", "umask 077; cat >/etc/kubernetes/podnet-token"],
      {
        input: plain,
      },
    );
  }
}

/** Copies local images into every node's containerd (no registry is involved). */
export async function loadImages(cluster: string, images: readonly string[]): Promise<void> {
  await step("kind-load", await kindBin(), ["load", "docker-image", "--name", cluster, ...images], {
    timeoutMs: 10 * 60_000,
  });
}

/**
 * Deletes the cluster's node containers, and Docker's "kind" network once no container uses it (kind
 * leaves it behind); deleting a cluster that does not exist is fine. Throws when a node container is
 * still there afterwards.
 */
export async function deleteKindCluster(name: string): Promise<void> {
  await step("kind-delete", await kindBin(), ["delete", "cluster", "--name", name], { timeoutMs: 5 * 60_000 });
  const left = await step("kind-delete", "docker", ["ps", "-aq", "--filter", `label=io.x-k8s.kind.cluster=${name}`]);
  if (left.trim()) throw new KindStepError("kind-delete", join(kindLogsDir(), "kind-delete.log"));
  const users = await step("kind-delete", "docker", ["ps", "-aq", "--filter", "network=kind"]).catch(() => "?");
  if (users.trim() === "") await step("kind-delete", "docker", ["network", "rm", "kind"]).catch(() => undefined);
}

/** Runs a command inside a node container, as root. */
export async function nodeExec(node: string, cmd: readonly string[]): Promise<string> {
  return step("node-exec", "docker", ["exec", node, ...cmd]);
}
