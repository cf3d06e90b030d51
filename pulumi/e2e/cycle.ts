/**
 * The life of one region's stack against a real cluster, observed: bad configurations rejected at
 * preview with nothing applied; `up` (CRDs, chart, Secret, the fleet); the operator, run by the caller,
 * planning each site into the Placement the stack exported; a bad edit rejected by `up` with nothing
 * half-applied; one site's servers changed → a preview of exactly that change → `up`; `refresh` finding
 * no drift; `destroy` against an unreachable cluster failing and keeping the state; `destroy`, then
 * kubectl finding nothing left. `runStack` records what it saw; `problemsOf` says what is wrong with it.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { ClusterOutput } from "../src/region.js";
import {
  editStackFile,
  failureOf,
  openStack,
  type StackHandle,
  type StackOverrides,
  type Step,
  stateOf,
  withSteps,
} from "./stack.js";
import type { PulumiInstall } from "./workspace.js";

export type Exec = (
  args: readonly string[],
  input?: string,
) => Promise<{ code: number; stdout: string; stderr: string }>;

export type CycleDeps = Readonly<{
  install: PulumiInstall;
  /** The cluster the stack is pointed at. */
  kubeconfig: string;
  /** kubectl against that cluster. */
  kubectl: Exec;
  /** Starts the operator watching `namespace`; the returned function stops it. */
  startOperator: (namespace: string) => Promise<() => Promise<void>>;
  log: (line: string) => void;
  signingKey: string;
  overrides?: StackOverrides;
}>;

type Config = Record<string, unknown>;
/** A Title of both sample regions, deleted with kubectl to check that drift is found. */
const controlTitle = "night-harbor";
type Site = { name: string; servers: { name: string; class: string }[]; prefixes: { cidr: string }[] };
const sites = (c: Config) => c.sites as Site[];

/** The bad configurations every stack must reject at preview, each naming a site's field or the kubeconfig. */
export const badConfigs: readonly { name: string; edit: (c: Config) => void; field: RegExp }[] = [
  {
    name: "bad CIDR",
    edit: (c) => {
      const p = sites(c)[0]?.prefixes[0];
      if (p) p.cidr = p.cidr.replace(/\.0\//, ".1/").replace(/::\//, "::1/");
    },
    field: /^stack [a-z-]+: site [a-z0-9-]+: sites\[0\]\.prefixes\[0\]\.cidr: must be a CIDR prefix/,
  },
  {
    name: "unknown server class",
    edit: (c) => {
      const s = sites(c)[0]?.servers[0];
      if (s) s.class = "nvme";
    },
    field: /^stack [a-z-]+: site [a-z0-9-]+: sites\[0\]\.servers: every server's class must name an entry/,
  },
  {
    name: "missing kubeconfig",
    edit: (c) => {
      delete c.kubeconfig;
    },
    field: /^stack [a-z-]+: kubeconfig: required/,
  },
];

export type Rejection = Readonly<{ name: string; failed: boolean; messages: readonly string[]; resources: number }>;

export type StackRun = {
  name: string;
  namespace: string;
  rejectedAtPreview: Rejection[];
  /** Namespaces of the stack that existed after the rejected previews (none should). */
  appliedBeforeUp: string[];
  upMs: number;
  /** In the state after `up` (the Stack, providers and component included). */
  resources: number;
  exported: { steeringEndpoint?: string; clusters: ClusterOutput[] };
  found: { crds: string[]; ocaclusters: string[]; deployments: string[]; steeringService: boolean; secretKey: boolean };
  secretInState: boolean;
  secretInStackFile: boolean;
  /** cluster → the Placement the operator created for it, once per site. */
  planned: Record<string, string>;
  rejectedAtUp: Rejection & { generationsKept: boolean };
  previewSteps: Step[];
  /** The preview of a chart value change (steering.replicas 2 → 3), not applied. */
  chartSteps: Step[];
  changeUpMs: number;
  plannedAfterChange: Record<string, string>;
  exportedAfterChange: ClusterOutput[];
  refreshMs: number;
  drift: Step[];
  refreshChanges: Record<string, number>;
  /** What a refresh found after a Title was deleted with kubectl: that Title. */
  driftControl: Step[];
  unreachable: { failed: boolean; message: string; resourcesBefore: number; resourcesAfter: number; ms: number };
  destroyMs: number;
  /** The resource that took longest in `up` and in `destroy`: "<type>::<name> <ms> ms". */
  slowest: { up: string; destroy: string };
  left: string[];
};

const json = async (kubectl: Exec, args: readonly string[]) => {
  const r = await kubectl([...args, "-o", "json"]);
  return r.code === 0
    ? (JSON.parse(r.stdout) as { items?: { metadata: { name: string }; spec?: { cluster?: string } }[] })
    : undefined;
};
const names = async (kubectl: Exec, args: readonly string[]) =>
  ((await json(kubectl, args))?.items ?? []).map((i) => i.metadata.name);

/** Runs every bad configuration through `preview`; the stack file is restored after each. */
async function rejectAtPreview(h: StackHandle): Promise<Rejection[]> {
  const original = await readFile(h.stackFile, "utf8");
  const out: Rejection[] = [];
  for (const bad of badConfigs) {
    await editStackFile(h, bad.edit);
    const r = await h.stack.preview({ color: "never" }).then(
      () => undefined,
      (err: unknown) => failureOf(err, h.name),
    );
    await writeFile(h.stackFile, original);
    out.push({
      name: bad.name,
      failed: r !== undefined,
      messages: r?.ours ?? [],
      resources: (await stateOf(h)).resources,
    });
  }
  return out;
}

/** Waits until the operator has created a Placement for every site; cluster → newest Placement name. */
async function placementsFor(
  kubectl: Exec,
  ns: string,
  clusters: readonly string[],
  except: Record<string, string> = {},
) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const items = (await json(kubectl, ["get", "placements", "-n", ns]))?.items ?? [];
    const found: Record<string, string> = {};
    for (const p of items) {
      const c = p.spec?.cluster;
      if (c && p.metadata.name !== except[c]) found[c] = p.metadata.name;
    }
    if (clusters.every((c) => found[c])) return found;
    if (Date.now() > deadline)
      throw new Error(`no Placement for ${clusters.filter((c) => !found[c]).join(", ")} in 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What the region's namespaces, CRDs and cluster-wide RBAC still hold after destroy. */
async function leftovers(kubectl: Exec, namespaces: readonly string[], release: string): Promise<string[]> {
  const left = (await names(kubectl, ["get", "crd"]))
    .filter((n) => n.endsWith(".cdn.edgefleet.dev"))
    .map((n) => `crd/${n}`);
  for (const ns of namespaces) if ((await kubectl(["get", "namespace", ns])).code === 0) left.push(`namespace/${ns}`);
  const selector = `app.kubernetes.io/instance=${release}`;
  left.push(...(await names(kubectl, ["get", "clusterrole", "-l", selector])).map((n) => `clusterrole/${n}`));
  left.push(
    ...(await names(kubectl, ["get", "clusterrolebinding", "-l", selector])).map((n) => `clusterrolebinding/${n}`),
  );
  return left;
}

export async function runStack(d: CycleDeps, name: string): Promise<StackRun> {
  const { kubectl, log } = d;
  const h = await openStack(d.install, name, d.kubeconfig, d.signingKey, d.overrides);
  const config = async () => (await h.stack.getAllConfig()) as Record<string, { value: string }>;
  const ns = (await config())["edgefleet:namespace"]?.value ?? "edgefleet";
  const release = d.overrides?.release ?? "edgefleet";
  log(`${name}: bad configurations at preview`);
  const rejectedAtPreview = await rejectAtPreview(h);
  const appliedBeforeUp = (await kubectl(["get", "namespace", ns])).code === 0 ? [ns] : [];

  log(`${name}: up`);
  const up = await withSteps((onEvent) => h.stack.up({ color: "never", onEvent }));
  const outputs = up.result.outputs;
  const exported = {
    steeringEndpoint: outputs.steeringEndpoint?.value as string | undefined,
    clusters: (outputs.clusters?.value ?? []) as ClusterOutput[],
  };
  const state = await stateOf(h);
  const clusterNames = exported.clusters.map((c) => c.name);
  const svc = /^http:\/\/([^.]+)\.([^.]+)\.svc/.exec(exported.steeringEndpoint ?? "");
  const secret = await kubectl(["get", "secret", "edgefleet-url-signing", "-n", ns, "-o", "jsonpath={.data.key}"]);
  const found = {
    crds: (await names(kubectl, ["get", "crd"])).filter((n) => n.endsWith(".cdn.edgefleet.dev")),
    ocaclusters: await names(kubectl, ["get", "ocaclusters", "-n", ns]),
    deployments: await names(kubectl, ["get", "deployments", "-n", ns]),
    steeringService: svc ? (await kubectl(["get", "service", svc[1] ?? "", "-n", svc[2] ?? ""])).code === 0 : false,
    secretKey: Buffer.from(secret.stdout, "base64").toString() === d.signingKey,
  };

  log(`${name}: the operator plans the sites`);
  const stopOperator = await d.startOperator(ns);
  try {
    const planned = await placementsFor(kubectl, ns, clusterNames);
    return await afterUp(
      d,
      h,
      { name, ns, release, rejectedAtPreview, appliedBeforeUp, up, state, exported, found, planned },
      stopOperator,
    );
  } finally {
    await stopOperator();
  }
}

type UpDone = Pick<StackRun, "name" | "rejectedAtPreview" | "appliedBeforeUp" | "exported" | "found" | "planned"> & {
  ns: string;
  release: string;
  up: { ms: number; slowest: { urn: string; ms: number } };
  state: { resources: number; json: string };
};

/** A bad edit at `up`, the servers change, refresh, and (the operator stopped by the caller) the destroys. */
async function afterUp(d: CycleDeps, h: StackHandle, u: UpDone, stopOperator: () => Promise<void>): Promise<StackRun> {
  const { kubectl, log } = d;
  const site = u.exported.clusters[0]?.name ?? "";
  log(`${u.name}: a bad edit rejected by up`);
  const rejectedAtUp = await rejectAtUp(h, kubectl, u.ns, site);

  log(`${u.name}: a chart upgrade, previewed`);
  const chartSteps = await previewChartUpgrade(h);

  log(`${u.name}: ${site} loses a server`);
  await editStackFile(h, (c) => {
    const s = sites(c)[0];
    if (s) s.servers = s.servers.slice(0, -1);
  });
  const preview = await withSteps((onEvent) => h.stack.preview({ color: "never", onEvent }));
  const change = await withSteps((onEvent) => h.stack.up({ color: "never", onEvent }));
  const exportedAfterChange = (change.result.outputs.clusters?.value ?? []) as ClusterOutput[];
  const plannedAfterChange = await placementsFor(kubectl, u.ns, [site], { [site]: u.planned[site] ?? "" });

  log(`${u.name}: refresh`);
  const refresh = await driftAfterRefresh(h);
  log(`${u.name}: refresh after a Title is deleted behind Pulumi's back (the control: it must find it)`);
  const deleted = await kubectl(["delete", "title", controlTitle, "-n", u.ns]);
  if (deleted.code !== 0) throw new Error(`kubectl delete title ${controlTitle}: ${deleted.stderr.trim()}`);
  const control = await driftAfterRefresh(h);

  await stopOperator();
  log(`${u.name}: destroy with the cluster unreachable`);
  const unreachable = await destroyUnreachable(h);
  log(`${u.name}: destroy`);
  const destroy = await withSteps((onEvent) => h.stack.destroy({ color: "never", onEvent }));
  const left = await leftovers(kubectl, [u.ns], u.release);
  const stackFile = await readFile(h.stackFile, "utf8");
  await h.stack.workspace.removeStack(h.name);
  return {
    name: u.name,
    namespace: u.ns,
    rejectedAtPreview: u.rejectedAtPreview,
    appliedBeforeUp: u.appliedBeforeUp,
    upMs: u.up.ms,
    resources: u.state.resources,
    exported: u.exported,
    found: u.found,
    secretInState: u.state.json.includes(d.signingKey),
    secretInStackFile: stackFile.includes(d.signingKey),
    planned: u.planned,
    rejectedAtUp,
    previewSteps: preview.steps,
    chartSteps,
    changeUpMs: change.ms,
    plannedAfterChange,
    exportedAfterChange,
    refreshMs: refresh.ms,
    drift: refresh.drift,
    refreshChanges: refresh.changes,
    driftControl: control.drift,
    unreachable,
    destroyMs: destroy.ms,
    slowest: { up: short(u.up.slowest), destroy: short(destroy.slowest) },
    left,
  };
}

const short = (s: { urn: string; ms: number }) => `${s.urn.split("$").at(-1)} ${s.ms} ms`;

/**
 * Drift: the resources `refresh` reports changed, and those a `preview` right after would change to bring
 * the cluster back to the program, each once. Refresh alone finds a resource deleted behind Pulumi's back;
 * a field edited behind its back shows only in the preview (in server-side apply mode the provider's
 * refresh keeps the inputs): as an update, or as a field conflict with the other manager, which fails it.
 */
async function driftAfterRefresh(h: StackHandle) {
  const refresh = await withSteps((onEvent) => h.stack.refresh({ color: "never", onEvent }));
  const changes = refresh.result.summary.resourceChanges ?? {};
  const refreshed = Object.entries(changes).some(([op, n]) => op !== "same" && n > 0) ? refresh.steps : [];
  const preview = await withSteps((onEvent) => h.stack.preview({ color: "never", onEvent }));
  const steps = [...refreshed.filter((s) => s.op !== "refresh" || s.diffs.length > 0), ...preview.steps];
  const drift = steps.filter((s, i) => steps.findIndex((t) => t.urn === s.urn) === i);
  return { ms: refresh.ms, changes, drift };
}

/** A chart value changed (steering.replicas: 3) and previewed, then the stack file restored: its steps. */
async function previewChartUpgrade(h: StackHandle): Promise<Step[]> {
  const original = await readFile(h.stackFile, "utf8");
  await editStackFile(h, (c) => {
    c.chartValues = { steering: { replicas: 3 } };
  });
  const preview = await withSteps((onEvent) => h.stack.preview({ color: "never", onEvent }));
  await writeFile(h.stackFile, original);
  return preview.steps;
}

/** An unknown server class in the first site, at `up`: it must fail before touching anything. */
async function rejectAtUp(h: StackHandle, kubectl: Exec, ns: string, site: string) {
  const original = await readFile(h.stackFile, "utf8");
  const generation = async () =>
    (await kubectl(["get", "ocacluster", site, "-n", ns, "-o", "jsonpath={.metadata.generation}"])).stdout;
  const before = { resources: (await stateOf(h)).resources, generation: await generation() };
  await editStackFile(h, badConfigs[1]?.edit ?? (() => {}));
  const r = await h.stack.up({ color: "never" }).then(
    () => undefined,
    (err: unknown) => failureOf(err, h.name),
  );
  await writeFile(h.stackFile, original);
  const resources = (await stateOf(h)).resources;
  return {
    name: "unknown server class",
    failed: r !== undefined,
    messages: r?.ours ?? [],
    resources,
    generationsKept: resources === before.resources && (await generation()) === before.generation,
  };
}

/** Destroy with the stack's kubeconfig pointing at a port nothing listens on: it must fail and keep the state. */
async function destroyUnreachable(h: StackHandle) {
  const kubeconfig = await readFile(h.kubeconfig, "utf8");
  await writeFile(h.kubeconfig, kubeconfig.replace(/server: \S+/g, "server: https://127.0.0.1:9"));
  const resourcesBefore = (await stateOf(h)).resources;
  const t0 = performance.now();
  const r = await h.stack.destroy({ color: "never" }).then(
    () => undefined,
    (err: unknown) => failureOf(err, h.name),
  );
  const ms = Math.round(performance.now() - t0);
  await writeFile(h.kubeconfig, kubeconfig);
  // The provider's error, once per resource it could not delete: "error: configured Kubernetes cluster is unreachable. …".
  const lines = r?.text.split("\n").map((l) => l.trim()) ?? [];
  const message = lines.find((l) => /^error: .*unreachable/i.test(l)) ?? lines.slice(0, 20).join("\n");
  return { failed: r !== undefined, message, resourcesBefore, resourcesAfter: (await stateOf(h)).resources, ms };
}

/** Every expectation the run did not meet, one line each; empty when the cycle is right. */
export function problemsOf(r: StackRun): string[] {
  const p: string[] = [];
  const want = (ok: boolean, what: string) => {
    if (!ok) p.push(`${r.name}: ${what}`);
  };
  for (const b of r.rejectedAtPreview) {
    const bad = badConfigs.find((c) => c.name === b.name);
    want(b.failed, `preview with a ${b.name} succeeded`);
    want(
      b.messages.length === 1 && bad !== undefined && bad.field.test(b.messages[0] ?? ""),
      `preview with a ${b.name} said ${JSON.stringify(b.messages)}`,
    );
    want(b.resources === 0, `preview with a ${b.name} left ${b.resources} resources in the state`);
  }
  want(r.appliedBeforeUp.length === 0, `the rejected previews applied ${r.appliedBeforeUp.join(", ")}`);
  want(r.found.crds.length === 4, `CRDs after up: ${r.found.crds.join(", ")}`);
  const sites = r.exported.clusters.map((c) => c.name);
  want(
    sites.length > 0 && [...r.found.ocaclusters].sort().join() === [...sites].sort().join(),
    `OCAClusters ${r.found.ocaclusters} ≠ exported ${sites}`,
  );
  want(r.found.deployments.length === 2, `chart Deployments: ${r.found.deployments.join(", ")}`);
  want(r.found.steeringService, `no Service behind the exported steering endpoint ${r.exported.steeringEndpoint}`);
  want(r.found.secretKey, "the URL-signing Secret does not hold the key");
  want(!r.secretInState, "the signing key is in the state in plain text");
  want(!r.secretInStackFile, "the signing key is in the stack file in plain text");
  for (const c of r.exported.clusters)
    want(
      r.planned[c.name] === c.placement,
      `${c.name}: the operator made ${r.planned[c.name]}, the stack exported ${c.placement}`,
    );
  want(
    r.rejectedAtUp.failed && r.rejectedAtUp.messages.length === 1,
    `up with a bad site: ${JSON.stringify(r.rejectedAtUp.messages)}`,
  );
  want(r.rejectedAtUp.generationsKept, "up with a bad site changed the state or the OCACluster");
  const site = r.exported.clusters[0]?.name ?? "";
  const only = r.previewSteps[0];
  want(
    r.previewSteps.length === 1 && only?.op === "update" && only.urn.endsWith(`ocacluster-${site}`),
    `preview of the servers change: ${JSON.stringify(r.previewSteps)}`,
  );
  const chart = r.chartSteps.filter((s) => s.type !== "kubernetes:helm.sh/v4:Chart");
  want(
    chart.length === 1 && chart[0]?.op === "update" && (chart[0]?.urn.endsWith("-steering") ?? false),
    `preview of steering.replicas 2 → 3: ${JSON.stringify(r.chartSteps)}`,
  );
  const after = r.exportedAfterChange.find((c) => c.name === site)?.placement;
  want(
    after !== undefined && r.plannedAfterChange[site] === after,
    `after the change the operator made ${r.plannedAfterChange[site]}, the stack exported ${after}`,
  );
  want(r.drift.length === 0, `refresh found drift: ${JSON.stringify(r.drift)}`);
  want(
    r.driftControl.length === 1 && (r.driftControl[0]?.urn.endsWith(`title-${controlTitle}`) ?? false),
    `refresh after kubectl deleted Title ${controlTitle} found ${JSON.stringify(r.driftControl)}`,
  );
  want(
    r.unreachable.failed && /unreachable/i.test(r.unreachable.message),
    `destroy of an unreachable cluster: ${r.unreachable.message}`,
  );
  want(
    r.unreachable.resourcesAfter === r.unreachable.resourcesBefore,
    `destroy of an unreachable cluster changed the state (${r.unreachable.resourcesBefore} → ${r.unreachable.resourcesAfter})`,
  );
  want(r.left.length === 0, `left after destroy: ${r.left.join(", ")}`);
  return p;
}
