/** The runtime's API client and informer against the real API server. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { z } from "zod";
import { parseWith, type TypedKind } from "../../operator/src/api/index.js";
import { Informer } from "../../operator/src/runtime/informer.js";
import { ApiError, Kube, type KubeObject, withRequestSignal } from "../../operator/src/runtime/kube.js";
import { LeaderElector } from "../../operator/src/runtime/leader.js";
import { eventually, kubeconfig, kubectl, kubectlOk } from "./kube.js";
import { stallProxy } from "./stall-proxy.js";

const ConfigMap: TypedKind<{ data?: Record<string, string> | undefined }> = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
  parse: (o) => parseWith(z.looseObject({ data: z.record(z.string(), z.string()).optional() }), o),
};
const ns = `rt-${Date.now().toString(36)}`;
const log = pino({ level: "silent" });
const cm = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns },
  data,
});

describe("runtime against the API server", () => {
  let kube: Kube;
  beforeAll(async () => {
    kube = await Kube.connect(kubeconfig());
    await kubectlOk(["create", "namespace", ns]);
  });
  afterAll(() => kubectl(["delete", "namespace", ns, "--wait=false"]));

  it("server-side applies, reads, lists and deletes; a missing object is undefined", async () => {
    await kube.apply(ConfigMap, cm("a", { k: "1" }), "edgefleet-test");
    const got = await kube.get<KubeObject & { data: Record<string, string> }>(ConfigMap, { namespace: ns, name: "a" });
    expect(got?.data).toEqual({ k: "1" });
    const managers = (
      got?.metadata as unknown as { managedFields?: { manager: string; operation: string }[] } | undefined
    )?.managedFields;
    expect(managers?.map((m) => [m.manager, m.operation])).toContainEqual(["edgefleet-test", "Apply"]);
    const { items } = await kube.list(ConfigMap, { namespace: ns });
    expect(items.map((i) => i.metadata.name)).toContain("a");
    expect(items[0]?.kind).toBe("ConfigMap");
    await kube.delete(ConfigMap, { namespace: ns, name: "a" });
    await kube.delete(ConfigMap, { namespace: ns, name: "a" });
    expect(await kube.get(ConfigMap, { namespace: ns, name: "a" })).toBeUndefined();
  });

  it("reports an invalid object as an ApiError naming the field", async () => {
    const bad = cm("Not_A_Valid_Name", {});
    const err = await kube.apply(ConfigMap, bad, "edgefleet-test").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).causes.map((c) => c.field)).toContain("metadata.name");
  });

  it("an informer lists, then sees adds, updates and deletes by key", async () => {
    await kube.apply(ConfigMap, cm("before", { v: "0" }), "edgefleet-test");
    const inf = new Informer(kube, ConfigMap, log, { namespace: ns });
    const changed: string[] = [];
    inf.onChange((k) => changed.push(k));
    const stop = new AbortController();
    const running = inf.run(stop.signal);
    expect(await inf.synced(stop.signal)).toBe(true);
    expect(inf.get(`${ns}/before`)?.value?.data).toEqual({ v: "0" });

    await kube.apply(ConfigMap, cm("after", { v: "1" }), "edgefleet-test");
    await kube.apply(ConfigMap, cm("before", { v: "2" }), "edgefleet-test");
    await kube.delete(ConfigMap, { namespace: ns, name: "after" });
    await eventually(
      async () => (inf.get(`${ns}/before`)?.value?.data?.v === "2" && !inf.get(`${ns}/after`) ? true : undefined),
      "informer cache to converge",
    );
    expect(changed).toContain(`${ns}/after`);
    stop.abort();
    await running;
  });

  it("an informer with a label selector caches only the matching objects, listed and watched", async () => {
    const labelled = (name: string, labels: Record<string, string>) => ({
      ...cm(name, {}),
      metadata: { name, namespace: ns, labels },
    });
    await kube.apply(ConfigMap, labelled("ours-1", { "edgefleet.test/ours": "x" }), "edgefleet-test");
    await kube.apply(ConfigMap, labelled("theirs-1", {}), "edgefleet-test");
    const inf = new Informer(kube, { ...ConfigMap, labelSelector: "edgefleet.test/ours" }, log, { namespace: ns });
    const stop = new AbortController();
    const running = inf.run(stop.signal);
    expect(await inf.synced(stop.signal)).toBe(true);
    await kube.apply(ConfigMap, labelled("theirs-2", {}), "edgefleet-test");
    await kube.apply(ConfigMap, labelled("ours-2", { "edgefleet.test/ours": "y" }), "edgefleet-test");
    await eventually(async () => (inf.get(`${ns}/ours-2`) ? true : undefined), "the labelled ConfigMap watched");
    expect(
      inf
        .entries(ns)
        .map((e) => e.key)
        .sort(),
    ).toEqual([`${ns}/ours-1`, `${ns}/ours-2`]);
    stop.abort();
    await running;
  });
});

describe("spec changes", () => {
  it("onSpecChange fires for adds, spec changes and deletes, not for status writes", async () => {
    const kube = await Kube.connect(kubeconfig());
    const Deployment: TypedKind<unknown> = {
      group: "apps",
      version: "v1",
      kind: "Deployment",
      plural: "deployments",
      namespaced: true,
      parse: (o) => ({ ok: true, value: o }),
    };
    const name = `spec-${Date.now().toString(36)}`;
    const deployment = (replicas: number): KubeObject => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "default" },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx:stable" }] } },
      },
    });
    const inf = new Informer(kube, Deployment, log, { namespace: "default" });
    const changes: string[] = [];
    const specChanges: string[] = [];
    inf.onChange((k) => changes.push(k));
    inf.onSpecChange((k) => specChanges.push(k));
    const stop = new AbortController();
    const running = inf.run(stop.signal);
    await inf.synced(stop.signal);
    await kube.apply(Deployment, deployment(0), "edgefleet-test");
    await eventually(async () => (specChanges.length === 1 ? true : undefined), "the add");
    const status = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "default" },
      status: { observedGeneration: 1 },
    };
    await kube.apply(Deployment, status, "edgefleet-test-status", { subresource: "status" });
    await eventually(async () => (changes.length >= 2 ? true : undefined), "the status write to arrive");
    expect(specChanges).toHaveLength(1);
    await kube.apply(Deployment, deployment(2), "edgefleet-test");
    await eventually(async () => (specChanges.length === 2 ? true : undefined), "the spec change");
    await kube.delete(Deployment, { namespace: "default", name });
    await eventually(async () => (specChanges.length === 3 ? true : undefined), "the delete");
    stop.abort();
    await running;
  });
});

describe("leader election on a Lease", () => {
  it("one candidate leads; the other takes over after the leader stops", async () => {
    const kube = await Kube.connect(kubeconfig());
    const opts = {
      namespace: "default",
      name: `le-${Date.now().toString(36)}`,
      retryPeriodMs: 100,
      leaseDurationMs: 2000,
    };
    const a = new LeaderElector(kube, { ...opts, identity: "a" }, log);
    const b = new LeaderElector(kube, { ...opts, identity: "b" }, log);
    const order: string[] = [];
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal, async (leading) => {
      order.push("a");
      await new Promise((r) => leading.addEventListener("abort", r, { once: true }));
    });
    await eventually(async () => (order.length ? true : undefined), "a to lead");
    const runB = b.run(stopB.signal, async () => {
      order.push("b");
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(order).toEqual(["a"]); // b waits while a renews
    stopA.abort();
    await runA;
    await eventually(async () => (order.length === 2 ? true : undefined), "b to take over");
    expect(order).toEqual(["a", "b"]);
    stopB.abort();
    await runB;
  });
});

/** A copy of the test cluster's kubeconfig whose server is `port` on loopback (the API server's certificate names 127.0.0.1). */
async function kubeconfigVia(port: number): Promise<{ path: string; target: { host: string; port: number } }> {
  const cfg = parseYaml(await readFile(kubeconfig(), "utf8")) as { clusters: { cluster: { server: string } }[] };
  const cluster = cfg.clusters[0]?.cluster;
  if (!cluster) throw new Error("the test kubeconfig has no cluster");
  const server = new URL(cluster.server);
  cluster.server = `https://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), "stall-"));
  const path = join(dir, "kubeconfig");
  await writeFile(path, stringify(cfg));
  return { path, target: { host: server.hostname, port: Number(server.port) } };
}

describe("two leaders never", () => {
  it("a leader cut off from the API server stops, and its writes stop, before another replica leads", async () => {
    const direct = await Kube.connect(kubeconfig());
    const probe = await kubeconfigVia(1);
    const proxy = await stallProxy(probe.target);
    const via = await kubeconfigVia(proxy.port);
    const kubes = { a: await Kube.connect(via.path), b: direct };
    const name = `le-stall-${Date.now().toString(36)}`;
    const opts = { namespace: "default", name, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 };
    const terms: { who: "a" | "b"; start: number; end?: number }[] = [];
    const writes: { who: "a" | "b"; at: number }[] = [];
    const lead = (who: "a" | "b") => async (leading: AbortSignal) => {
      const term: (typeof terms)[number] = { who, start: Date.now() };
      terms.push(term);
      while (!leading.aborted) {
        // What a reconcile does: API writes under the term's signal (the controller loop's withRequestSignal).
        await withRequestSignal(leading, () =>
          kubes[who].apply(
            ConfigMap,
            { ...cm(name, { owner: who }), metadata: { name, namespace: "default" } },
            "test",
          ),
        )
          .then(() => writes.push({ who, at: Date.now() }))
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
      term.end = Date.now();
    };
    const stop = { a: new AbortController(), b: new AbortController() };
    const runA = new LeaderElector(kubes.a, { ...opts, identity: "a" }, log).run(stop.a.signal, lead("a"));
    await eventually(async () => (terms.some((t) => t.who === "a") ? true : undefined), "a to lead");
    const runB = new LeaderElector(kubes.b, { ...opts, identity: "b" }, log).run(stop.b.signal, lead("b"));
    await new Promise((r) => setTimeout(r, 500));

    proxy.stall(true);
    const stalledAt = Date.now();
    const b = await eventually(async () => terms.find((t) => t.who === "b"), "b to lead once a is cut off", 30_000);
    const a = terms.find((t) => t.who === "a");
    console.error(
      `two leaders never: b led ${b.start - stalledAt} ms after a was cut off; a stopped ${(a?.end ?? 0) - stalledAt} ms after`,
    );
    expect(a?.end).toBeDefined();
    expect(a?.end ?? Infinity).toBeLessThanOrEqual(b.start);
    expect(writes.filter((w) => w.who === "a" && w.at > (a?.end ?? 0))).toEqual([]);
    // b's first write may still be on its way when its term starts.
    await eventually(async () => (writes.some((w) => w.who === "b") ? true : undefined), "b to write as leader");

    proxy.stall(false); // a can reach the API server again: it finds b leading and stays a candidate
    await new Promise((r) => setTimeout(r, 1500));
    expect(terms.filter((t) => t.who === "a")).toHaveLength(1);
    const lease = await direct.get<KubeObject & { spec: { holderIdentity?: string } }>(
      { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
      { namespace: "default", name },
    );
    expect(lease?.spec.holderIdentity).toBe("b");
    stop.a.abort();
    stop.b.abort();
    await Promise.all([runA, runB]);
    await proxy.close();
    await rm(join(via.path, ".."), { recursive: true, force: true });
    await rm(join(probe.path, ".."), { recursive: true, force: true });
  });
});
