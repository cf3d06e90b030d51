/**
 * Installs the fleet into a kind cluster, as a user would: namespaces, the master URL-signing Secret
 * (release namespace: the operator derives the cluster's link keys from it) and the edge TLS Secret, `helm upgrade --install` of charts/edgefleet (its CRDs from the chart), the origin, then the
 * OCAClusters (the ISP site, and the IX site when there are three or more workers), Titles and
 * Popularity by server-side apply. Idempotent: a second run keeps the Secrets'
 * keys, so it can be re-run against a kept cluster.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBinaries } from "../local-cluster.js";
import { type KindCluster, type KindNode, step } from "./cluster.js";
import {
  chartValues,
  type EdgeServer,
  edgeSites,
  fillWindow,
  fleetNames,
  ocaCluster,
  onControlPlane,
  origin,
  popularity,
  titles,
} from "./fleet-objects.js";
import type { MediaFile } from "./media.js";

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export type InstalledFleet = Readonly<{
  kubeconfig: string;
  controlPlane: KindNode;
  /** The ISP site's servers (fleetNames.cluster). */
  servers: readonly EdgeServer[];
  /** The IX site's servers (fleetNames.ixCluster): none with fewer than three workers. */
  ixServers: readonly EdgeServer[];
  /** Docker's kind network (IPv4 CIDR), announced to both sites: this host and containers on it play from it. */
  clientNetwork: string;
  /** Steering's NodePort on the control-plane node, reachable from this host. */
  steeringUrl: string;
  /** The master of kid k1, the primary (the URL-signing Secret's `k1.key`). */
  linkMaster: string;
  /**
   * This host's address as the edge nodes see it (Docker's gateway on kind's network): links are bound
   * to the client's /24, so a client of steering that fetches from the edges from here must be it.
   */
  edgeClient: string;
  /** The CA that signed the edge servers' certificate (their IPs are its subject alternative names). */
  caPem: string;
  files: readonly MediaFile[];
  catalogGeneration: string;
}>;

export type Kubectl = (args: readonly string[], input?: string) => Promise<string>;

export async function kubectlFor(kubeconfig: string): Promise<Kubectl> {
  const { kubectl } = await ensureBinaries(["kubectl"]);
  return (args, input) =>
    step("kubectl", kubectl, ["--kubeconfig", kubeconfig, ...args], input === undefined ? {} : { input });
}

const list = (items: readonly object[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });

/** The value under `key` of a Secret, or undefined when the Secret does not exist. */
async function secretValue(k: Kubectl, ns: string, name: string, key: string): Promise<string | undefined> {
  const out = await k([
    "-n",
    ns,
    "get",
    "secret",
    name,
    "--ignore-not-found",
    "-o",
    `jsonpath={.data.${key.replace(".", "\\.")}}`,
  ]);
  return out ? Buffer.from(out, "base64").toString() : undefined;
}

/** A CA and a server certificate for every edge server's address, by openssl. */
async function edgeCertificate(servers: readonly EdgeServer[]): Promise<{ ca: string; crt: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), "edgefleet-tls-"));
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    await step("tls", "openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      f("ca.key"),
      "-out",
      f("ca.crt"),
      "-days",
      "30",
      "-subj",
      "/CN=edgefleet kind CA",
    ]);
    await step("tls", "openssl", [
      "req",
      ...ec,
      "-keyout",
      f("tls.key"),
      "-out",
      f("tls.csr"),
      "-subj",
      "/CN=edgefleet edge",
    ]);
    const sans = servers.map((s) => `IP:${s.ipv4}`).join(",");
    await writeFile(f("ext.cnf"), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    await step("tls", "openssl", [
      "x509",
      "-req",
      "-in",
      f("tls.csr"),
      "-CA",
      f("ca.crt"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f("tls.crt"),
      "-days",
      "30",
      "-extfile",
      f("ext.cnf"),
    ]);
    const [ca, crt, key] = await Promise.all(["ca.crt", "tls.crt", "tls.key"].map((n) => readFile(f(n), "utf8")));
    return { ca: ca ?? "", crt: crt ?? "", key: key ?? "" };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Docker's IPv4 `field` of kind's network: its Gateway (this host's address as the kind nodes see it)
 * or its Subnet (the peers steering sees behind the NodePort, whose X-Forwarded-For it believes).
 */
async function kindNetwork(field: "Gateway" | "Subnet"): Promise<string> {
  const out = await step("docker", "docker", [
    "network",
    "inspect",
    "kind",
    "-f",
    `{{range .IPAM.Config}}{{.${field}}} {{end}}`,
  ]);
  const v4 = out.split(" ").find((s) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(s));
  if (!v4) throw new Error(`no IPv4 ${field} on Docker's kind network: "${out.trim()}"`);
  return v4;
}

export async function installFleet(o: {
  cluster: KindCluster;
  imageTag: string;
  /** When the OCACluster's fill window opens (rounded up to the minute). */
  windowOpensAt: Date;
  catalogGeneration: string;
}): Promise<InstalledFleet> {
  const n = fleetNames;
  const k = await kubectlFor(o.cluster.kubeconfig);
  const controlPlane = o.cluster.nodes.find((x) => x.role === "control-plane");
  if (!controlPlane) throw new Error(`kind cluster ${o.cluster.name} has no control-plane node`);
  const { isp: servers, ix: ixServers } = edgeSites(o.cluster.nodes.filter((x) => x.role === "worker"));
  const clientNetwork = await kindNetwork("Subnet");
  const edgeImage = `edgefleet-edge:${o.imageTag}`;

  await k(
    ["apply", "-f", "-"],
    list(
      [n.namespace, n.releaseNamespace].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
    ),
  );
  const linkMaster =
    (await secretValue(k, n.releaseNamespace, n.signingSecret, "k1.key")) ?? randomBytes(32).toString("base64");
  const signing = [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: n.signingSecret, namespace: n.releaseNamespace },
      stringData: { "k1.key": linkMaster, primary: "k1" },
    },
  ];
  let caPem = await secretValue(k, n.namespace, n.tlsSecret, "ca.crt");
  const tls = [];
  if (!caPem) {
    const cert = await edgeCertificate([...servers, ...ixServers]);
    caPem = cert.ca;
    tls.push({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: { name: n.tlsSecret, namespace: n.namespace },
      stringData: { "tls.crt": cert.crt, "tls.key": cert.key, "ca.crt": cert.ca },
    });
  }
  await k(["apply", "-f", "-"], list([...signing, ...tls]));

  const { helm } = await ensureBinaries(["helm"]);
  const values = join(tmpdir(), `edgefleet-kind-values-${process.pid}.json`);
  await writeFile(
    values,
    JSON.stringify(chartValues({ imageTag: o.imageTag, trustedProxies: [clientNetwork, "10.244.0.0/16"] })),
  );
  await step(
    "helm-install",
    helm,
    [
      "--kubeconfig",
      o.cluster.kubeconfig,
      "upgrade",
      "--install",
      n.release,
      join(repo, "charts/edgefleet"),
      "-n",
      n.releaseNamespace,
      "-f",
      values,
      "--wait",
      "--timeout",
      "5m",
    ],
    { timeoutMs: 6 * 60_000 },
  );
  await rm(values, { force: true });

  const catalog = titles();
  await k(["apply", "-f", "-"], list(origin({ image: edgeImage, files: catalog.files, placement: onControlPlane })));
  await k(["-n", n.namespace, "rollout", "status", `deployment/${n.origin}`, "--timeout=300s"]);
  const fleet = [
    ...catalog.objects,
    popularity(o.catalogGeneration),
    ...[
      { site: "isp" as const, servers },
      { site: "ix" as const, servers: ixServers },
    ].flatMap((x) =>
      x.servers.length === 0
        ? []
        : [ocaCluster({ ...x, window: fillWindow(o.windowOpensAt), image: edgeImage, clientNetwork })],
    ),
  ];
  await k(["apply", "--server-side", "--force-conflicts", "--field-manager=edgefleet-kind", "-f", "-"], list(fleet));

  const nodePort = await k([
    "-n",
    n.releaseNamespace,
    "get",
    "service",
    `${n.release}-steering`,
    "-o",
    'jsonpath={.spec.ports[?(@.name=="http")].nodePort}',
  ]);
  return {
    kubeconfig: o.cluster.kubeconfig,
    controlPlane,
    servers,
    ixServers,
    clientNetwork,
    steeringUrl: `http://${controlPlane.ipv4}:${nodePort.trim()}`,
    linkMaster,
    edgeClient: await kindNetwork("Gateway"),
    caPem,
    files: catalog.files,
    catalogGeneration: o.catalogGeneration,
  };
}
