import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type Condition, Kinds } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { at, fakeCaches, keptEvents } from "../runtime/testing.js";
import { fixedLinkKeys, type LinkKeyring, parseClusterKeys } from "../steering/link-keys.js";
import { deriveLinkKey } from "../steering/sign-url.js";
import { makeEdgeReconciler } from "./edge.js";
import { defaultEdgePolicy } from "./edge-policy.js";

const m1 = Buffer.from("master-1-0123456789abcdefghijklmnopq");
const m2 = Buffer.from("master-2-0123456789abcdefghijklmnopq");
const ctx = { log: pino({ level: "silent" }), signal: new AbortController().signal };

async function reconcile(masters: LinkKeyring | undefined) {
  const written: KubeObject[] = [];
  const kube = {
    apply: async <T>(_k: unknown, o: KubeObject) => {
      written.push(o);
      return o as T;
    },
  };
  const caches = fakeCaches();
  caches.of(Kinds.OCACluster).upsert(at(sample("OCACluster", "ams-polder-1"), "cdn", "1", 3));
  const options = { agentServiceAccount: "a", policy: defaultEdgePolicy, linkKeys: fixedLinkKeys(masters) };
  const clusters = caches.of(Kinds.OCACluster);
  const r = makeEdgeReconciler({ kube, clusters, options, now: () => new Date(0), events: keptEvents() });
  await r.reconcile({ namespace: "cdn", name: "ams-polder-1" }, ctx);
  const status = written.find((o) => o.kind === "OCACluster")?.status as { conditions: Condition[] } | undefined;
  return { written, condition: status?.conditions[0] };
}

describe("the edge controller's link keys", () => {
  it("applies the cluster's link-key Secret first: a key per kid derived for this cluster, and the primary", async () => {
    const masters = {
      keys: new Map([
        ["k1", m1],
        ["k2", m2],
      ]),
      primary: "k2",
    };
    const { written, condition } = await reconcile(masters);
    expect(written.map((o) => o.kind)).toEqual(["Secret", "ConfigMap", "DaemonSet", "OCACluster"]);
    const secret = written[0] as KubeObject & { data: Record<string, string> };
    expect(secret.metadata).toMatchObject({ name: "edge-ams-polder-1-link-keys", namespace: "cdn" });
    const data = new Map(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, "base64")]));
    const keys = parseClusterKeys(data);
    expect(keys.primary).toBe("k2");
    expect(keys.keys.get("k1")?.equals(deriveLinkKey(m1, "cdn", "ams-polder-1"))).toBe(true);
    expect(keys.keys.get("k2")?.equals(deriveLinkKey(m2, "cdn", "ams-polder-1"))).toBe(true);
    for (const v of data.values()) expect(v.includes(m1) || v.includes(m2)).toBe(false); // no master leaves
    expect(condition).toMatchObject({ status: "True", reason: "Applied" });
    expect(condition?.message).toBe("DaemonSet edge-ams-polder-1; link keys k1, k2 (k2 signs)");
  });

  it("mounts the Secret into nginx only, never into the agent or the init container", async () => {
    const { written } = await reconcile({ keys: new Map([["k1", m1]]), primary: "k1" });
    type Pod = { containers: { name: string; volumeMounts: { name: string }[] }[]; initContainers: Pod["containers"] };
    const ds = written.find((o) => o.kind === "DaemonSet") as
      | (KubeObject & { spec: { template: { spec: Pod } } })
      | undefined;
    if (!ds) throw new Error("no DaemonSet");
    const pod = ds.spec.template.spec;
    const mounting = [...pod.initContainers, ...pod.containers]
      .filter((c) => c.volumeMounts.some((m) => m.name === "link-keys"))
      .map((c) => c.name);
    expect(mounting).toEqual(["nginx"]);
  });

  it("without master keys applies nothing and says why", async () => {
    const { written, condition } = await reconcile(undefined);
    expect(written.map((o) => o.kind)).toEqual(["OCACluster"]);
    expect(condition).toMatchObject({ status: "False", reason: "NoURLSigningKeys" });
  });
});
