import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type Condition, Kinds, mustParse } from "../api/index.js";
import { loadSamples, sample } from "../api/testdata/samples.js";
import { regionCatalog } from "../catalog/catalog.js";
import { planHca } from "../placement/index.js";
import { ApiError, type KubeObject } from "../runtime/kube.js";
import { at, fakeCaches, keptEvents } from "../runtime/testing.js";
import { makeOCAClusterReconciler, PlacementNameTakenError } from "./ocacluster.js";

const all = loadSamples().map((s) => s.object);
const titles = all.filter((o) => o.kind === "Title").map((o) => mustParse("Title", o));
const eu = all.filter((o) => o.kind === "Popularity").map((o) => mustParse("Popularity", o));
const catalog = regionCatalog(
  "eu-west",
  titles,
  eu.find((p) => p.spec.region === "eu-west"),
);
const uid = "0b6c1c1e-uid-of-ams";
const cluster = { ...at(sample("OCACluster", "ams-polder-1"), "ns", "1", 1) };
cluster.metadata.uid = uid;

/** The owner reference of `made` with another uid. */
const ownedBy = (made: KubeObject, owner: string): KubeObject => {
  const [ref] = made.metadata.ownerReferences ?? [];
  if (!ref) throw new Error("the Placement has no owner");
  return { ...made, metadata: { ...made.metadata, ownerReferences: [{ ...ref, uid: owner }] } };
};

/** The reconciler over a cluster with no Placement yet, against an API server where `name` is taken by `there`. */
function withTakenName(there: (made: KubeObject) => KubeObject) {
  const caches = fakeCaches();
  caches.of(Kinds.OCACluster).upsert(cluster);
  const applied: KubeObject[] = [];
  let made: KubeObject | undefined;
  const kube = {
    create: async (_k: unknown, o: KubeObject): Promise<never> => {
      made = o;
      throw new ApiError(409, "AlreadyExists", `placements "${o.metadata.name}" already exists`);
    },
    get: async <T>() => (made ? there(made) : undefined) as T,
    apply: async <T>(_k: unknown, o: KubeObject) => {
      applied.push(o);
      return o as T;
    },
  };
  const reconciler = makeOCAClusterReconciler({
    kube: kube as never,
    clusters: caches.of(Kinds.OCACluster),
    placements: caches.of(Kinds.Placement),
    leases: caches.of(Kinds.Lease),
    catalogs: { get: () => catalog },
    plan: planHca,
    now: () => new Date("2026-11-26T12:00:00Z"),
    events: keptEvents(),
  });
  const run = () =>
    reconciler.reconcile(
      { namespace: "ns", name: "ams-polder-1" },
      { log: pino({ level: "silent" }), signal: new AbortController().signal },
    );
  const placed = () => {
    const status = applied.filter((o) => o.kind === "OCACluster").at(-1)?.status as { conditions?: Condition[] };
    return status?.conditions?.find((c) => c.type === "Placed");
  };
  return { run, applied, placed };
}

describe("creating a Placement whose name exists (409)", () => {
  it("is success when the object there is this cluster's same ring (an earlier attempt made it)", async () => {
    const t = withTakenName((made) => ownedBy(made, uid));
    await expect(t.run()).resolves.toBeDefined();
    expect(t.applied.some((o) => o.kind === "Placement")).toBe(true);
    expect(t.placed()).toMatchObject({ status: "True", reason: "Planned" });
  });

  it.each([
    {
      name: "another ring",
      there: (m: KubeObject) => ({ ...m, spec: { ...(m.spec as object), cutoff: 1 } }),
    },
    {
      name: "another owner",
      there: (m: KubeObject) => ownedBy(m, "other"),
    },
  ])("is an error with Placed=False naming the Placement when the object there is $name", async ({ there }) => {
    const t = withTakenName(there as (m: KubeObject) => KubeObject);
    await expect(t.run()).rejects.toBeInstanceOf(PlacementNameTakenError);
    expect(t.applied.some((o) => o.kind === "Placement")).toBe(false);
    expect(t.placed()).toMatchObject({ status: "False", reason: "PlacementNameTaken" });
    expect(t.placed()?.message).toMatch(/^Placement ams-polder-1-[0-9a-f]{10} already exists/);
  });
});
