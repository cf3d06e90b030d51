/**
 * What the e2e tests share: the installed fleet, an API client, reading objects through the project's own
 * schemas, waiting, fetching from the edge over HTTPS with the fleet's CA, and the figures file the
 * runner (hack/kind/e2e.ts) prints.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { inject } from "vitest";
import { nodeExec } from "../../hack/kind/cluster.js";
import { kubectlFor } from "../../hack/kind/fleet.js";
import { fleetNames } from "../../hack/kind/fleet-objects.js";
import { Kinds, type Placement, type TypedKind } from "../../operator/src/api/index.js";
import { regionCatalog, regionPopularity } from "../../operator/src/catalog/catalog.js";
import { serversOf } from "../../operator/src/catalog/servers.js";
import { assign } from "../../operator/src/placement/index.js";
import { Kube, type KubeObject } from "../../operator/src/runtime/kube.js";
import type { E2EFleet } from "./global-setup.js";

const ctx = inject("e2e");
export const skipReason = ctx.skip;
export const e2e = (): E2EFleet => {
  if (!ctx.ready) throw new Error(`e2e skipped: ${ctx.skip}`);
  return ctx.ready;
};
export const names = fleetNames;

let kube: Kube | undefined;
export async function api(): Promise<Kube> {
  kube ??= await Kube.connect(e2e().fleet.kubeconfig);
  return kube;
}
export const kubectl = async (args: readonly string[], input?: string) =>
  (await kubectlFor(e2e().fleet.kubeconfig))(args, input);

/** Polls `probe` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 180_000,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const seconds = (fromMs: number, toMs = Date.now()) => Math.round((toMs - fromMs) / 100) / 10;

/** Records one figure for the runner's JSON line (tests run one at a time, in one process). */
export function figure(name: string, value: unknown): void {
  const file = process.env.EDGEFLEET_E2E_FIGURES;
  if (!file) return;
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    // first figure
  }
  all[name] = value;
  writeFileSync(file, JSON.stringify(all, null, 2));
}

/** The namespace's objects of a kind that pass its schema, typed. */
async function listParsed<T>(kind: TypedKind<T>): Promise<T[]> {
  const items = (await (await api()).list<KubeObject>(kind, { namespace: names.namespace })).items;
  return items.flatMap((o) => {
    const r = kind.parse(o);
    return r.ok ? [r.value] : [];
  });
}
export const clusterObject = async () =>
  (await listParsed(Kinds.OCACluster)).find((c) => c.metadata.name === names.cluster);
export const placements = () => listParsed(Kinds.Placement);
export const titleObjects = () => listParsed(Kinds.Title);
export const popularities = () => listParsed(Kinds.Popularity);
export const leases = async () =>
  (await (await api()).list<KubeObject>(Kinds.Lease, { namespace: names.namespace })).items;

/** A site's (the ISP site's by default) Active Placement for a catalog generation ("day-1", …), once it is Active. */
export async function activePlacement(
  generation: string,
  cluster: string = names.cluster,
): Promise<Placement | undefined> {
  return (await placements()).find(
    (p) =>
      p.spec.cluster === cluster &&
      p.spec.catalogGeneration.startsWith(`${generation}.`) &&
      p.status?.phase === "Active",
  );
}

/** Per server name, the files (relative path → sha256 the Title declares) that assign() gives it. */
export async function expectedFiles(p: Placement): Promise<Map<string, Map<string, string>>> {
  const cluster = await clusterObject();
  if (!cluster) throw new Error(`no OCACluster ${names.cluster}`);
  const ts = await titleObjects();
  const catalog = regionCatalog(cluster.spec.region, ts, regionPopularity(await popularities(), cluster.spec.region));
  const sha = new Map(ts.flatMap((t) => t.spec.files.map((f) => [f.path, f.sha256] as const)));
  const assignment = assign(p.spec, catalog.files, serversOf(cluster.spec));
  const byServer = new Map<string, Map<string, string>>();
  for (const f of catalog.files) {
    const path = f.key.slice(f.key.indexOf("/") + 1);
    for (const s of assignment.holdersOf(f.key)) {
      const m = byServer.get(s) ?? new Map<string, string>();
      m.set(path, sha.get(path) ?? "");
      byServer.set(s, m);
    }
  }
  return byServer;
}

/** What is published on a node's content disk (partials excluded): relative path → sha256 of its bytes. */
export async function filesOnDisk(node: string, contentPath: string): Promise<Map<string, string>> {
  const out = await nodeExec(node, [
    "sh",
    "-c",
    `cd '${contentPath}' 2>/dev/null || exit 0; find . -type f -not -path './.edgefleet/*' -print0 | xargs -0 -r sha256sum`,
  ]);
  return new Map(
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [sum = "", path = ""] = l.split(/\s+/, 2);
        return [path.replace(/^\.\//, ""), sum] as const;
      }),
  );
}

/** Waits until every server's evict Job of the Placement has succeeded: then its disk holds only what the ring names. */
export async function evicted(p: Placement): Promise<void> {
  const n = e2e().fleet.servers.length;
  await until(`the evict Jobs of ${p.metadata.name}`, async () => {
    const out = await kubectl([
      "-n",
      names.namespace,
      "get",
      "jobs",
      "-l",
      `cdn.edgefleet.dev/placement=${p.metadata.name},cdn.edgefleet.dev/job=evict`,
      "-o",
      'jsonpath={range .items[*]}{.status.succeeded}{"\\n"}{end}',
    ]);
    return out.split("\n").filter((l) => l === "1").length === n ? true : undefined;
  });
}

export type ServerDisk = Readonly<{
  server: string;
  node: string;
  want: Map<string, string>;
  disk: Map<string, string>;
}>;

/** Each server's disk beside what assign() gives it under the Placement (relative path → sha256). */
export async function disksAgainstAssign(p: Placement): Promise<ServerDisk[]> {
  const expected = await expectedFiles(p);
  const contentPath = (await clusterObject())?.spec.edge.contentPath ?? "";
  const out: ServerDisk[] = [];
  for (const s of e2e().fleet.servers) {
    out.push({
      server: s.name,
      node: s.node,
      want: expected.get(s.name) ?? new Map(),
      disk: await filesOnDisk(s.node, contentPath),
    });
  }
  return out;
}

export type Fetched = Readonly<{ status: number; sha256: string; bytes: number }>;

/** GET over HTTPS, trusting the fleet's edge CA only; the body is hashed, not kept. */
export function fetchEdge(url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: e2e().fleet.caPem, timeout: 20_000 }, (res) => {
      const h = createHash("sha256");
      let bytes = 0;
      res.on("data", (b: Buffer) => {
        h.update(b);
        bytes += b.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, sha256: h.digest("hex"), bytes }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in 20 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** A steering or playback answer for a client address (steering trusts X-Forwarded-For from kind's network). */
export async function steering(path: string, client: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${e2e().fleet.steeringUrl}${path}`, {
    headers: { "x-forwarded-for": client },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: await r.json() };
}

export type ManifestBody = {
  title: string;
  ladder: { kind: string; codec: string; rungs: { path: string; urls: string[] }[] }[];
};
