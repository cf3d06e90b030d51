/**
 * The Helm chart, all with the real tools: helm lint and template (and a bad value failing with the
 * field named), kubeconform validating the sample CRs offline against JSON schemas made from our
 * CRDs, a server-side dry run of every rendered object on the real API server, and a real install:
 * the Deployments, their ServiceAccounts, what RBAC lets each account do, the real operator running
 * with the operator ServiceAccount's token and never denied, then a clean uninstall.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ensureBinaries } from "../../hack/local-cluster.js";
import { repoRoot } from "../../operator/src/api/testdata/samples.js";
import { steeringServiceConfig } from "../../operator/src/cli/serve.js";
import { startOperator } from "../../operator/src/operator.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { fixedLinkKeys } from "../../operator/src/steering/link-keys.js";
import { type ExecResult, eventually, exec, kubeconfig, kubectl, kubectlOk } from "./kube.js";

const chart = join(repoRoot, "charts/edgefleet");
const id = `${process.pid}-${Date.now().toString(36)}`.slice(-10);
const release = `ef-${id}`;
const ns = `chart-${id}`;
const dryNs = `chart-dry-${id}`;

type Result = ExecResult;
let bins: { helm: string; kubeconform: string };
let work: string;

// helm keeps its cache and config in these; keep them out of $HOME.
const helmEnv = () => ({
  ...process.env,
  HELM_CACHE_HOME: join(work, "helm-cache"),
  HELM_CONFIG_HOME: join(work, "helm-config"),
});
const helm = (...args: string[]) => exec(bins.helm, args, undefined, helmEnv());
const ok = (r: Result, what: string) => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
};

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
};
const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

beforeAll(async () => {
  bins = await ensureBinaries(["helm", "kubeconform"]);
  work = await mkdtemp(join(tmpdir(), "edgefleet-chart-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("helm lint and template", () => {
  it("lints clean", async () => {
    const out = ok(await helm("lint", "--strict", chart), "helm lint");
    expect(out).toContain("0 chart(s) failed");
  });

  it("renders monitoring only when asked: ServiceMonitors that select the metrics Services, the alerts, the dashboard", async () => {
    const plain = docs(ok(await helm("template", release, chart, "-n", ns), "helm template"));
    const kinds = (objs: Obj[]) => objs.map((o) => o.kind);
    expect(kinds(plain)).not.toContain("PrometheusRule");
    expect(kinds(plain)).not.toContain("ServiceMonitor");
    expect(plain.some((o) => o.metadata.labels?.grafana_dashboard)).toBe(false);
    const on = ["serviceMonitor", "prometheusRule", "grafanaDashboard"].flatMap((p) => [
      "--set",
      `monitoring.${p}.enabled=true`,
    ]);
    const objs = docs(ok(await helm("template", release, chart, "-n", ns, ...on), "helm template"));
    const rule = objs.find((o) => o.kind === "PrometheusRule");
    expect(rule?.spec).toEqual(parse(await readFile(join(repoRoot, "charts/edgefleet/files/alerts.yaml"), "utf8")));
    const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
    const json = (cm as { data?: Record<string, string> } | undefined)?.data?.["edgefleet-fleet.json"] ?? "";
    expect(JSON.parse(json)).toEqual(
      JSON.parse(await readFile(join(repoRoot, "charts/edgefleet/files/dashboard.json"), "utf8")),
    );
    type Monitor = { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    const services = objs.filter((o) => o.kind === "Service");
    const monitors = objs.filter((o) => o.kind === "ServiceMonitor");
    expect(monitors).toHaveLength(2);
    for (const m of monitors) {
      const spec = m.spec as Monitor;
      const selected = services.filter((svc) =>
        Object.entries(spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v),
      );
      expect(
        selected.map((svc) => svc.metadata.name),
        m.metadata.name,
      ).toHaveLength(1);
      const ports = (selected[0]?.spec as { ports: { name: string }[] } | undefined)?.ports.map((p) => p.name);
      expect(ports).toContain(spec.endpoints[0]?.port);
    }
    expect(objs.find((o) => o.kind === "PodMonitor")?.spec).toMatchObject({
      selector: { matchLabels: { "app.kubernetes.io/name": "edgefleet-edge" } },
      podMetricsEndpoints: [{ port: "agent", path: "/metrics" }],
    });
  });

  it("renders the operator, steering and agent objects with the flags the CLI takes", async () => {
    const objs = docs(ok(await helm("template", release, chart, "-n", ns), "helm template"));
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        `Deployment/${release}-edgefleet-operator`,
        `Deployment/${release}-edgefleet-steering`,
        `Service/${release}-edgefleet-operator-metrics`,
        `Service/${release}-edgefleet-steering`,
        `ServiceAccount/edgefleet-agent`,
        `ClusterRole/${release}-edgefleet-operator`,
        `Role/${release}-edgefleet-operator-leader-election`,
        `PodDisruptionBudget/${release}-edgefleet-steering`,
        `ValidatingAdmissionPolicy/${release}-edgefleet-agent-leases`,
        `ValidatingAdmissionPolicyBinding/${release}-edgefleet-agent-leases`,
        `Role/${release}-edgefleet-operator-link-keys`,
        `ValidatingAdmissionPolicy/${release}-edgefleet-operator-secrets`,
        `ValidatingAdmissionPolicyBinding/${release}-edgefleet-operator-secrets`,
      ]),
    );
    // The agent has no rule on Nodes: its kTLS state travels in its Lease.
    expect(names).not.toContain(`ClusterRole/${release}-edgefleet-agent-nodes`);
    // One operator replica by default: no PDB that would block every drain.
    expect(names).not.toContain(`PodDisruptionBudget/${release}-edgefleet-operator`);
    type Pod = { template: { spec: { containers: { args: string[]; securityContext: object }[] } } };
    const op = objs.find((o) => o.metadata.name === `${release}-edgefleet-operator` && o.kind === "Deployment");
    const c = (op?.spec as Pod | undefined)?.template.spec.containers[0];
    expect(c?.args).toEqual([
      "operator",
      "--identity=$(POD_NAME)",
      `--lease-namespace=${ns}`,
      "--lease-name=edgefleet-operator",
      "--health-port=8081",
      "--agent-service-account=edgefleet-agent",
      "--url-signing-keys-dir=/etc/edgefleet/url-signing",
      "--url-ttl-seconds=21600",
      "--keep-superseded=3",
      "--job-ttl-seconds=86400",
      "--content-root=/var/lib/edgefleet",
      "--allowed-edge-image=ghcr.io/edgefleet/edgefleet-edge",
      "--log-level=info",
    ]);
    expect(c?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    // The steering flags the chart renders are the CLI's, and its defaults are the service's.
    const st = objs.find((o) => o.metadata.name === `${release}-edgefleet-steering` && o.kind === "Deployment");
    const args = (st?.spec as Pod | undefined)?.template.spec.containers[0]?.args ?? [];
    const flags = Object.fromEntries(args.slice(1).map((a) => a.replace(/^--/, "").split("=", 2) as [string, string]));
    expect(flags).toMatchObject({
      "stale-while-error-seconds": "600",
      "manifest-cache-size": "256Mi",
      "max-connections": "8192",
      "headers-timeout-seconds": "5",
      "request-timeout-seconds": "10",
      "keep-alive-timeout-seconds": "5",
      "rate-limit-per-second": "0",
      "rate-limit-burst": "20",
    });
    expect(steeringServiceConfig(flags)).toEqual(steeringServiceConfig({}));
  });

  it("watching one namespace renders Roles there instead of ClusterRoles, and a PDB with >1 operator", async () => {
    const objs = docs(
      ok(
        await helm(
          "template",
          release,
          chart,
          "-n",
          ns,
          "--set",
          "watchNamespace=fleet",
          "--set",
          "operator.replicas=2",
          "--set",
          "steering.trustedProxies={10.0.0.0/8,2001:db8::/32}",
        ),
        "helm template",
      ),
    );
    const kinds = (name: string) => objs.filter((o) => o.metadata.name === name).map((o) => o.kind);
    expect(kinds(`${release}-edgefleet-operator`).sort()).toEqual([
      "Deployment",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "ServiceAccount",
    ]);
    expect(
      objs.find((o) => o.kind === "Role" && o.metadata.name === `${release}-edgefleet-operator`)?.metadata.namespace,
    ).toBe("fleet");
    expect(
      objs.find((o) => o.kind === "ServiceAccount" && o.metadata.name === "edgefleet-agent")?.metadata.namespace,
    ).toBe("fleet");
    const steering = objs.find((o) => o.kind === "Deployment" && o.metadata.name === `${release}-edgefleet-steering`);
    expect(JSON.stringify(steering)).toContain('"--trusted-proxy=10.0.0.0/8","--trusted-proxy=2001:db8::/32"');
  });

  it("passes operator.evictDelaySeconds as --evict-delay-seconds only when set, beside the URL lifetime", async () => {
    const args = async (...sets: string[]) => {
      const objs = docs(ok(await helm("template", release, chart, "-n", ns, ...sets), "helm template"));
      const op = objs.find((o) => o.metadata.name === `${release}-edgefleet-operator` && o.kind === "Deployment");
      const spec = op?.spec as { template: { spec: { containers: { args: string[] }[] } } } | undefined;
      return spec?.template.spec.containers[0]?.args ?? [];
    };
    const set = ["--set", "operator.evictDelaySeconds=5", "--set", "steering.urlTtlSeconds=600"];
    expect(await args(...set)).toEqual(expect.arrayContaining(["--url-ttl-seconds=600", "--evict-delay-seconds=5"]));
    expect((await args()).some((a) => a.startsWith("--evict-delay-seconds"))).toBe(false);
  });

  it.each([
    { set: "operator.evictDelaySeconds=-1", field: "/operator/evictDelaySeconds" },
    { set: "operator.replicas=two", field: "/operator/replicas" },
    { set: "steering.trustedProxies={not-a-cidr}", field: "/steering/trustedProxies/0" },
    { set: "logLevel=loud", field: "/logLevel" },
    { set: "urlSigning.secretName=Not_A_Name", field: "/urlSigning/secretName" },
    { set: "operator.replicaz=2", field: "replicaz" },
    { set: "steering.healthPort=8080", field: "steering.healthPort" },
    { set: "steering.manifestCacheSize=lots", field: "/steering/manifestCacheSize" },
    { set: "steering.maxConnections=0", field: "/steering/maxConnections" },
    { set: "steering.staleWhileErrorSeconds=-1", field: "/steering/staleWhileErrorSeconds" },
    { set: "steering.requestTimeoutSeconds=2", field: "steering.requestTimeoutSeconds" },
    { set: "agent.namespaces={a,b},watchNamespace=a", field: "agent.namespaces" },
    { set: "edge.contentRoot=/etc", field: "/edge/contentRoot" },
    { set: "edge.allowedImages=null", field: "/edge" },
    { set: "edge.allowedImages={}", field: "/edge/allowedImages" },
  ])("rejects $set naming $field", async ({ set, field }) => {
    const r = await helm("template", release, chart, "--set", set);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(field);
  });
});

describe("kubeconform, offline, against schemas made from our CRDs", () => {
  let schemaDir: string;
  const kubeconform = (files: string[]) =>
    exec(bins.kubeconform, [
      "-strict",
      "-summary",
      "-output",
      "json",
      "-schema-location",
      `${schemaDir}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
      ...files,
    ]);

  beforeAll(async () => {
    schemaDir = join(work, "schemas");
    await mkdir(schemaDir, { recursive: true });
    const crdDir = join(repoRoot, "crds");
    for (const f of (await readdir(crdDir)).filter((f) => f.endsWith(".yaml"))) {
      const crd = parse(await readFile(join(crdDir, f), "utf8")) as CRD;
      for (const v of crd.spec.versions) {
        const file = `${crd.spec.names.kind.toLowerCase()}_${v.name}.json`;
        await writeFile(join(schemaDir, file), JSON.stringify(toJsonSchema(v.schema.openAPIV3Schema), null, 1));
      }
    }
  });

  it("accepts every sample in crds/samples", async () => {
    const dir = join(repoRoot, "crds/samples");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).map((f) => join(dir, f));
    const r = await kubeconform(files);
    const report = JSON.parse(r.stdout) as { resources: unknown[]; summary: Record<string, number> };
    expect(report.resources, r.stdout).toEqual([]); // -output json lists only failures
    expect(r.code).toBe(0);
    expect(report.summary.valid).toBeGreaterThanOrEqual(files.length);
    expect(report.summary.skipped).toBe(0); // every kind found its schema: nothing passed unchecked
  });

  it.each([
    { name: "wrong type", field: "/spec/location/lat", edit: (s: Spec) => setIn(s, ["location", "lat"], "north") },
    { name: "unknown field", field: "/spec/site", edit: (s: Spec) => setIn(s, ["site", "asnn"], 64500) },
    { name: "bad enum", field: "/spec/site/type", edit: (s: Spec) => setIn(s, ["site", "type"], "datacenter") },
  ])("rejects an OCACluster with a $name, naming $field", async ({ field, edit }) => {
    const sample = docs(await readFile(join(repoRoot, "crds/samples/ocaclusters.yaml"), "utf8"))[0] as Obj;
    edit(sample.spec as Spec);
    const file = join(work, `invalid-${field.replaceAll("/", "_")}.json`);
    await writeFile(file, JSON.stringify(sample));
    const r = await kubeconform([file]);
    expect(r.code).not.toBe(0);
    const report = JSON.parse(r.stdout) as {
      resources: { status: string; validationErrors?: { path: string; msg: string }[] }[];
    };
    expect(report.resources[0]?.status).toBe("statusInvalid");
    expect(report.resources[0]?.validationErrors?.map((e) => e.path)).toContain(field);
  });
});

describe("on the real API server", () => {
  beforeAll(async () => {
    await kubectlOk(["create", "namespace", dryNs]);
    // Pod Security admission enforces and warns at the restricted level: the chart's pods pass it whole.
    await kubectlOk([
      "label",
      "namespace",
      dryNs,
      "pod-security.kubernetes.io/enforce=restricted",
      "pod-security.kubernetes.io/warn=restricted",
    ]);
    await kubectlOk(["create", "namespace", `fleet-${id}`]);
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", dryNs, `fleet-${id}`, "--wait=false"]);
  });

  it.each([
    { name: "defaults", sets: [] as string[] },
    { name: "one watched namespace, 3 operators", sets: ["watchNamespace=fleet-ID", "operator.replicas=3"] },
  ])(
    "accepts every rendered object in a server-side dry run, without a Pod Security warning at the restricted level ($name)",
    async ({ sets }) => {
      const args = ["template", release, chart, "-n", dryNs, "--include-crds"];
      for (const s of sets) args.push("--set", s.replace("ID", id));
      const rendered = ok(await helm(...args), "helm template");
      const r = await kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], rendered);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const applied = r.stdout.trim().split("\n");
      expect(applied).toHaveLength(docs(rendered).length);
      for (const line of applied)
        expect(line).toMatch(/ (created|configured|unchanged|serverside-applied) \(server dry run\)$/);
    },
  );
});

describe("helm install and uninstall", () => {
  const sa = (name: string, namespace = ns) => `system:serviceaccount:${namespace}:${name}`;
  const can = async (as: string, verb: string, resource: string, namespace: string | undefined, ...extra: string[]) => {
    const args = ["auth", "can-i", verb, resource, `--as=${as}`, ...extra];
    if (namespace) args.push("-n", namespace);
    const r = await kubectl(args);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    ok(
      await helm("install", release, chart, "-n", ns, "--create-namespace", "--kubeconfig", kubeconfig()),
      "helm install",
    );
  });
  afterAll(async () => {
    await helm("uninstall", release, "-n", ns, "--kubeconfig", kubeconfig());
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("creates the operator (1 replica) and steering (2 replicas) Deployments with their ServiceAccounts", async () => {
    const get = async (name: string) =>
      JSON.parse(await kubectlOk(["get", "deployment", name, "-n", ns, "-o", "json"])) as {
        spec: { replicas: number; template: { spec: { serviceAccountName: string } } };
      };
    const op = await get(`${release}-edgefleet-operator`);
    expect(op.spec.replicas).toBe(1);
    expect(op.spec.template.spec.serviceAccountName).toBe(`${release}-edgefleet-operator`);
    const st = await get(`${release}-edgefleet-steering`);
    expect(st.spec.replicas).toBe(2);
    expect(st.spec.template.spec.serviceAccountName).toBe(`${release}-edgefleet-steering`);
    for (const name of [`${release}-edgefleet-operator`, `${release}-edgefleet-steering`, "edgefleet-agent"]) {
      await kubectlOk(["get", "serviceaccount", name, "-n", ns]);
    }
    const status = ok(await helm("status", release, "-n", ns, "--kubeconfig", kubeconfig()), "helm status");
    expect(status).toContain("STATUS: deployed");
  });

  it.each(
    [
      { who: "operator", verb: "create", res: "jobs.batch", want: "yes" },
      { who: "operator", verb: "delete", res: "jobs.batch", want: "yes" },
      { who: "operator", verb: "watch", res: "ocaclusters.cdn.edgefleet.dev", want: "yes" },
      { who: "operator", verb: "patch", res: "ocaclusters.cdn.edgefleet.dev", sub: "status", want: "yes" },
      { who: "operator", verb: "patch", res: "placements.cdn.edgefleet.dev", sub: "status", want: "yes" },
      { who: "operator", verb: "create", res: "placements.cdn.edgefleet.dev", want: "yes" },
      { who: "operator", verb: "delete", res: "placements.cdn.edgefleet.dev", want: "yes" },
      { who: "operator", verb: "list", res: "pods", want: "yes" },
      { who: "operator", verb: "delete", res: "pods", want: "no" },
      { who: "operator", verb: "create", res: "leases.coordination.k8s.io", want: "yes" },
      { who: "operator", verb: "update", res: "leases.coordination.k8s.io/edgefleet-operator", want: "yes" },
      { who: "operator", verb: "update", res: "leases.coordination.k8s.io/someone-else", want: "no" },
      { who: "operator", verb: "patch", res: "daemonsets.apps", want: "yes" },
      { who: "operator", verb: "create", res: "events.events.k8s.io", want: "yes" },
      { who: "operator", verb: "patch", res: "events.events.k8s.io", want: "yes" },
      { who: "operator", verb: "delete", res: "events.events.k8s.io", want: "no" },
      { who: "operator", verb: "delete", res: "nodes", cluster: true, want: "no" },
      // The link-key Secrets it derives, in the agent namespaces only, written blind (apply), never read.
      { who: "operator", verb: "get", res: "secrets", want: "no" },
      { who: "operator", verb: "list", res: "secrets", want: "no" },
      { who: "operator", verb: "create", res: "secrets", want: "yes" },
      { who: "operator", verb: "patch", res: "secrets", want: "yes" },
      { who: "operator", verb: "delete", res: "secrets", want: "no" },
      { who: "operator", verb: "create", res: "secrets", ns: "kube-system", want: "no" },
      { who: "operator", verb: "update", res: "ocaclusters.cdn.edgefleet.dev", want: "no" },
      { who: "steering", verb: "list", res: "placements.cdn.edgefleet.dev", want: "yes" },
      { who: "steering", verb: "watch", res: "leases.coordination.k8s.io", want: "yes" },
      { who: "steering", verb: "create", res: "jobs.batch", want: "no" },
      { who: "steering", verb: "patch", res: "ocaclusters.cdn.edgefleet.dev", sub: "status", want: "no" },
      // RBAC cannot name what a create makes: patch covers every Lease; the admission policy limits names (below).
      { who: "agent", verb: "patch", res: "leases.coordination.k8s.io", want: "yes" },
      { who: "agent", verb: "update", res: "leases.coordination.k8s.io/edgefleet-operator", want: "no" },
      { who: "agent", verb: "delete", res: "leases.coordination.k8s.io", want: "no" },
      { who: "agent", verb: "patch", res: "nodes", cluster: true, want: "no" },
      { who: "agent", verb: "get", res: "nodes", cluster: true, want: "no" },
      { who: "agent", verb: "get", res: "placements.cdn.edgefleet.dev", want: "yes" },
      { who: "agent", verb: "list", res: "placements.cdn.edgefleet.dev", want: "yes" },
      { who: "agent", verb: "list", res: "ocaclusters.cdn.edgefleet.dev", want: "no" },
      { who: "agent", verb: "list", res: "titles.cdn.edgefleet.dev", want: "yes" },
      { who: "agent", verb: "create", res: "placements.cdn.edgefleet.dev", want: "no" },
      { who: "agent", verb: "create", res: "jobs.batch", want: "no" },
      { who: "agent", verb: "delete", res: "nodes", cluster: true, want: "no" },
    ].map((c) => ({ sub: "", cluster: false, ns: "", ...c })),
  )("can-i: $who $verb $res $sub $ns → $want", async ({ who, verb, res, sub, cluster, want, ns: other }) => {
    const account = who === "agent" ? "edgefleet-agent" : `${release}-edgefleet-${who}`;
    const extra = sub ? [`--subresource=${sub}`] : [];
    expect(await can(sa(account), verb, res, cluster ? undefined : other || ns, ...extra)).toBe(want);
  });

  it("lets the operator write only link-key Secrets (the chart's admission policy, real requests)", async () => {
    const as = `--as=${sa(`${release}-edgefleet-operator`)}`;
    const secret = (name: string, cluster: string | undefined) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: ns, labels: cluster ? { "cdn.edgefleet.dev/cluster": cluster } : {} },
        stringData: { "k1.key": "x", primary: "k1" },
      });
    const apply = (body: string) =>
      kubectl(["apply", "--server-side", "--field-manager=chart-test", as, "-f", "-"], body);
    const good = await apply(secret("edge-ams-1-link-keys", "ams-1"));
    expect(good.code, good.stderr).toBe(0);
    for (const [name, cluster] of [
      ["edge-tls", "ams-1"],
      ["edge-ams-1-link-keys", "fra-1"],
      ["edge-ams-1-link-keys", undefined],
    ] as const) {
      const r = await apply(secret(name, cluster));
      expect(r.code, `${name} ${cluster}`).not.toBe(0);
      expect(r.stderr).toMatch(/operator-secrets|link-key/);
    }
  });

  describe("the agent's Leases, as the agent's ServiceAccount (real requests, the chart's admission policy)", () => {
    const as = `--as=${sa("edgefleet-agent")}`;
    const lease = (name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: ns, labels },
      spec: { holderIdentity: labels["cdn.edgefleet.dev/server"], leaseDurationSeconds: 30, ...spec },
    });
    const heartbeat = (cluster: string, server: string, spec: Record<string, unknown> = {}) =>
      lease(
        `edge-${cluster}-${server}`,
        { "cdn.edgefleet.dev/cluster": cluster, "cdn.edgefleet.dev/server": server },
        spec,
      );
    const applyAsAgent = (obj: object) =>
      kubectl(["apply", "--server-side", "--field-manager=edgefleet-agent", as, "-f", "-"], JSON.stringify(obj));

    // An admission policy takes effect a moment after it is created.
    beforeAll(() =>
      eventually(async () => {
        const r = await applyAsAgent(lease("policy-probe", {}));
        return r.stderr.includes("only heartbeat Leases") ? true : undefined;
      }, "the agent-leases policy to be in force"),
    );

    it("creates and renews its own heartbeat Lease", async () => {
      for (const renewTime of ["2026-12-02T10:00:00.000000Z", "2026-12-02T10:00:10.000000Z"]) {
        const r = await applyAsAgent(heartbeat("c1", "s01", { renewTime }));
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain("serverside-applied");
      }
    });

    it.each([
      {
        name: "another name than its labels give",
        obj: () => ({
          ...heartbeat("c1", "s01"),
          metadata: { ...heartbeat("c1", "s01").metadata, name: "edge-c1-s02" },
        }),
        why: "edge-c1-s01, not edge-c1-s02",
      },
      { name: "a Lease without heartbeat labels", obj: () => lease("edge-x-y", {}), why: "only heartbeat Leases" },
      {
        name: "held by another server",
        obj: () => heartbeat("c1", "s03", { holderIdentity: "s01" }),
        why: "held by its server",
      },
      {
        name: "a lease of a year",
        obj: () => heartbeat("c1", "s01", { leaseDurationSeconds: 31_536_000 }),
        why: "at most 300",
      },
      {
        name: "its own Lease relabelled",
        obj: () => ({
          ...heartbeat("c1", "s01"),
          metadata: {
            ...heartbeat("c1", "s01").metadata,
            labels: { "cdn.edgefleet.dev/cluster": "c1", "cdn.edgefleet.dev/server": "s01", extra: "x" },
          },
        }),
        why: "labels never change",
      },
    ])("is refused $name", async ({ obj, why }) => {
      const r = await applyAsAgent(obj());
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(why);
    });

    it("cannot take the operator's leader Lease, nor give it a renewTime in the future", async () => {
      const leader = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "edgefleet-operator", namespace: ns },
        spec: { holderIdentity: "operator-0", leaseDurationSeconds: 15 },
      };
      await kubectlOk(["apply", "--server-side", "--field-manager=chart-test", "-f", "-"], JSON.stringify(leader));
      const patch = await kubectl([
        "patch",
        "lease",
        "edgefleet-operator",
        "-n",
        ns,
        as,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { holderIdentity: "agent", renewTime: "2099-01-01T00:00:00.000000Z" } }),
      ]);
      expect(patch.code).not.toBe(0);
      expect(patch.stderr).toContain("only heartbeat Leases");
      const update = await kubectl(
        ["replace", "-n", ns, as, "-f", "-"],
        JSON.stringify({ ...leader, spec: { holderIdentity: "agent" } }),
      );
      expect(update.code).not.toBe(0);
      expect(update.stderr).toMatch(/forbidden/i);
      expect(
        (
          await kubectlOk(["get", "lease", "edgefleet-operator", "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"])
        ).trim(),
      ).toBe("operator-0");
      await kubectlOk(["delete", "lease", "edgefleet-operator", "-n", ns]);
    });

    it("cannot annotate a Node", async () => {
      const r = await kubectl(["annotate", "node", "--all", "cdn.edgefleet.dev/ktls=active", as]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/forbidden/i);
    });
  });

  it("is enough for the real operator: run as the operator's ServiceAccount it leads and reconciles, never denied", async () => {
    const sampleObjs = async (file: string) =>
      docs(await readFile(join(repoRoot, "crds/samples", file), "utf8")).map((o) => ({
        ...o,
        metadata: { ...o.metadata, namespace: ns },
      }));
    const inputs = [
      ...(await sampleObjs("ocaclusters.yaml")),
      ...(await sampleObjs("titles.yaml")),
      ...(await sampleObjs("popularities.yaml")),
    ];
    await kubectlOk([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      ...["ocaclusters", "titles", "popularities", "placements"].map((p) => `crd/${p}.cdn.edgefleet.dev`),
    ]);
    await kubectlOk(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: inputs }),
    );
    // The operator's own credentials: a token of the chart's ServiceAccount, not the admin's.
    const account = `${release}-edgefleet-operator`;
    const token = (await kubectlOk(["create", "token", account, "-n", ns, "--duration=1h"])).trim();
    const admin = parse(await readFile(kubeconfig(), "utf8")) as {
      clusters: { name: string }[];
      contexts: { name: string; context: { cluster: string; user: string } }[];
      "current-context": string;
    };
    const ctx = admin.contexts.find((c) => c.name === admin["current-context"]);
    const saConfig = join(work, "operator-sa.kubeconfig");
    await writeFile(
      saConfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: admin.clusters.filter((c) => c.name === ctx?.context.cluster),
        users: [{ name: account, user: { token } }],
        contexts: [{ name: account, context: { cluster: ctx?.context.cluster, user: account } }],
        "current-context": account,
      }),
    );
    const logged: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void logged.push(line) });
    const stop = new AbortController();
    const op = await startOperator(
      {
        kube: await Kube.connect(saConfig),
        log,
        namespace: ns, // the ClusterRole covers it; all namespaces would touch other tests' objects
        identity: "chart-test",
        leaseNamespace: ns,
        healthPort: 0,
        healthHost: "127.0.0.1",
        agentServiceAccount: "edgefleet-agent",
        linkKeys: fixedLinkKeys({
          keys: new Map([["k1", Buffer.from("chart-test-master-0123456789abcdefgh")]]),
          primary: "k1",
        }),
      },
      stop.signal,
    );
    try {
      await eventually(async () => {
        const r = await kubectl([
          "get",
          "lease",
          "edgefleet-operator",
          "-n",
          ns,
          "-o",
          "jsonpath={.spec.holderIdentity}",
        ]);
        return r.stdout === "chart-test" ? true : undefined;
      }, "the operator to take its leader-election Lease");
      await eventually(async () => {
        const t = JSON.parse(await kubectlOk(["get", "titles", "-n", ns, "-o", "json"])) as {
          items: { status?: { ladder?: unknown[] } }[];
        };
        return t.items.length > 0 && t.items.every((i) => (i.status?.ladder?.length ?? 0) > 0) ? true : undefined;
      }, "every Title's status (titles/status patch)");
      await eventually(async () => {
        const p = JSON.parse(await kubectlOk(["get", "placements", "-n", ns, "-o", "json"])) as {
          items: { spec: { cluster: string }; status?: object }[];
        };
        const clusters = new Set(p.items.filter((i) => i.status !== undefined).map((i) => i.spec.cluster));
        return clusters.size === 3 ? true : undefined;
      }, "a Placement with status for each of the 3 sample clusters (placements create, placements/status patch)");
      await eventually(async () => {
        const c = JSON.parse(await kubectlOk(["get", "ocaclusters", "-n", ns, "-o", "json"])) as {
          items: { status?: { conditions?: unknown[] } }[];
        };
        return c.items.every((i) => (i.status?.conditions?.length ?? 0) > 0) ? true : undefined;
      }, "every OCACluster's conditions (ocaclusters/status patch)");
      await eventually(async () => {
        const e = JSON.parse(await kubectlOk(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])) as {
          items: { reason: string }[];
        };
        return e.items.some((i) => i.reason === "PlacementPlanned") ? true : undefined;
      }, "a PlacementPlanned Event (events create)");
    } finally {
      stop.abort();
      await op.done;
    }
    const denied = logged.filter((l) => /forbidden|\b403\b/i.test(l));
    expect(denied).toEqual([]);
  });

  it("uninstalls everything it installed, cluster-scoped RBAC included", async () => {
    ok(await helm("uninstall", release, "-n", ns, "--kubeconfig", kubeconfig()), "helm uninstall");
    await eventually(async () => {
      const r = await kubectl([
        "get",
        "deployments,services,serviceaccounts,roles,rolebindings",
        "-n",
        ns,
        "-o",
        "name",
      ]);
      const left = r.stdout.split("\n").filter((l) => l.includes(release) || l.includes("edgefleet-agent"));
      return left.length === 0 ? true : undefined;
    }, "namespaced objects removed");
    for (const [kind, name] of [
      ["clusterrole", `${release}-edgefleet-operator`],
      ["clusterrole", `${release}-edgefleet-steering`],
      ["validatingadmissionpolicy", `${release}-edgefleet-agent-leases`],
      ["validatingadmissionpolicybinding", `${release}-edgefleet-agent-leases`],
    ]) {
      const r = await kubectl(["get", kind ?? "", name ?? ""]);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr).toContain("NotFound");
    }
    // CRDs stay (Helm never deletes crds/): deleting them would delete every cluster's objects.
    await kubectlOk(["get", "crd", "ocaclusters.cdn.edgefleet.dev"]);
  });
});

// JSON Schema from a CRD's openAPIV3Schema, as openapi2jsonschema does it for kubeconform: nullable and
// int-or-string become JSON Schema types, and objects with listed properties refuse unknown ones
// (structural schemas prune them on the server). CEL rules (x-kubernetes-validations) stay with the API
// server: test/integration/crds.test.ts covers them.
type CRD = {
  spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
};
type Schema = { [k: string]: unknown };
type Spec = Record<string, unknown>;

function toJsonSchema(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith("x-kubernetes-") || k === "nullable") continue;
    if (k === "properties" || k === "patternProperties") {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, toJsonSchema(ps)]));
    } else if (k === "items" || (k === "additionalProperties" && typeof v === "object")) {
      out[k] = toJsonSchema(v as Schema);
    } else if (k === "allOf" || k === "anyOf" || k === "oneOf") {
      out[k] = (v as Schema[]).map(toJsonSchema);
    } else if (k === "not") {
      out[k] = toJsonSchema(v as Schema);
    } else {
      out[k] = v;
    }
  }
  if (s["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }, ...((out.anyOf as Schema[]) ?? [])];
  }
  if (s.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (out.properties && out.additionalProperties === undefined && s["x-kubernetes-preserve-unknown-fields"] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

function setIn(o: Spec, path: string[], value: unknown): void {
  let cur = o;
  for (const p of path.slice(0, -1)) cur = cur[p] as Spec;
  cur[path.at(-1) as string] = value;
}
