/**
 * Each controller's declared wiring (For, Owns, Watches) against fake informers: which change of which
 * object enqueues which keys. Fan-out bugs hide here, and no reconcile test would see them.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { Cached, clusterLabel, heartbeatLease, Kinds } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { CacheSet } from "../runtime/caches.js";
import { at, fakeCaches, wiring } from "../runtime/testing.js";
import { edgeController } from "./edge.js";
import { fillController } from "./fill.js";
import { placementLabel } from "./fill-job.js";
import { controllers as controllersFor } from "./index.js";
import { ocaclusterController } from "./ocacluster.js";
import { popularityController } from "./popularity.js";
import { titleController } from "./title.js";

/** The master link keys' change listeners, called by `keysChanged`. */
let keyListeners: (() => void)[] = [];
const linkKeys = { onChange: (fn: () => void) => void keyListeners.push(fn) };
const keysChanged = () => {
  for (const fn of keyListeners) fn();
};
const controllers = controllersFor(linkKeys);
const ams = sample("OCACluster", "ams-polder-1");
const ix = sample("OCACluster", "ams-ix-1");
const title = sample("Title", "night-harbor");
const pop = sample("Popularity", "eu-west");
const amsPlacement = sample("Placement", "ams-polder-1-2026-08-14");
const lease = (cluster: string, server: string) =>
  heartbeatLease({
    namespace: "ns",
    cluster,
    server,
    load: { connections: 0, bytesPerSec: 0, diskUsedBytes: 0, diskTotalBytes: 1, ktls: "active" },
    now: new Date(0),
    leaseDurationSeconds: 30,
  });
const job = (placement: string | undefined) => ({
  metadata: { name: `fill-${placement ?? "x"}`, labels: placement ? { [placementLabel]: placement } : {} },
  apiVersion: "batch/v1",
  kind: "Job",
});

let caches: CacheSet;
beforeEach(() => {
  keyListeners = [];
  caches = fakeCaches();
  // The fleet before each case: two clusters in ns, one elsewhere, a Placement of ams-polder-1.
  caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
  caches.of(Kinds.OCACluster).upsert(at(ix, "ns", "2", 1));
  caches.of(Kinds.OCACluster).upsert(at(ams, "other", "3", 1));
  caches.of(Kinds.Placement).upsert(at(amsPlacement, "ns", "4", 1));
});

describe("every controller", () => {
  it("has a name of its own and reconciles what its For names", () => {
    expect(controllers.map((c) => c.name)).toEqual(["ocacluster", "edge", "title", "popularity", "fill"]);
    expect(controllers.map((c) => c.for.kind.kind)).toEqual([
      "OCACluster",
      "OCACluster",
      "Title",
      "Popularity",
      "Placement",
    ]);
  });
});

describe("the operator's caches", () => {
  it("hold only its own Jobs and the heartbeat Leases: every watch of either is label-filtered", () => {
    const watched = controllers.flatMap((c) => [c.for, ...c.watches].map((w) => w.kind));
    const ofKind = watched.filter((k) => k.plural === "jobs" || k.plural === "leases");
    expect(ofKind.map((k) => [k.plural, k.labelSelector])).toEqual([
      ["leases", clusterLabel],
      ["jobs", "cdn.edgefleet.dev/job"],
    ]);
  });
});

describe("ocacluster wiring", () => {
  const cases = [
    {
      name: "a cluster's status write → that cluster",
      change: (c: CacheSet) => c.of(Kinds.OCACluster).upsert(at(ams, "ns", "10", 1, { status: {} })),
      want: ["ns/ams-polder-1"],
    },
    {
      name: "a Title's spec change → every cluster of its namespace (their catalogs)",
      change: (c: CacheSet) => c.of(Kinds.Title).upsert(at(title, "ns", "10", 2)),
      want: ["ns/ams-ix-1", "ns/ams-polder-1"],
    },
    {
      name: "a Popularity in another namespace → that namespace's cluster",
      change: (c: CacheSet) => c.of(Kinds.Popularity).upsert(at(pop, "other", "10", 1)),
      want: ["other/ams-polder-1"],
    },
    {
      name: "a Placement's phase → its cluster",
      change: (c: CacheSet) =>
        c.of(Kinds.Placement).upsert(at(amsPlacement, "ns", "10", 1, { status: { phase: "Active" } })),
      want: ["ns/ams-polder-1"],
    },
    {
      name: "a deleted Placement → its cluster, as last seen",
      change: (c: CacheSet) => c.of(Kinds.Placement).remove(at(amsPlacement, "ns", "10", 1)),
      want: ["ns/ams-polder-1"],
    },
    {
      name: "an invalid Placement → every cluster of its namespace",
      change: (c: CacheSet) => c.of(Kinds.Placement).upsert(at(amsPlacement, "ns", "10", 1, { spec: {} })),
      want: ["ns/ams-ix-1", "ns/ams-polder-1"],
    },
    {
      name: "a server's heartbeat → its cluster",
      change: (c: CacheSet) => c.of(Cached.HeartbeatLease).upsert(at(lease("ams-ix-1", "s01"), "ns", "10", 0)),
      want: ["ns/ams-ix-1"],
    },
    {
      name: "a Lease that is no heartbeat (the leader's) → nothing",
      change: (c: CacheSet) =>
        c
          .of(Cached.HeartbeatLease)
          .upsert(at({ metadata: { name: "edgefleet-operator" } }, "ns", "10", 0, { spec: {} })),
      want: [],
    },
  ];
  it.each(cases)("$name", ({ change, want }) => {
    const w = wiring(ocaclusterController, caches);
    w.take();
    change(caches);
    expect(w.take()).toEqual(want);
  });

  it("a Title's status-only write (same generation) wakes no cluster", () => {
    caches.of(Kinds.Title).upsert(at(title, "ns", "10", 1));
    const w = wiring(ocaclusterController, caches);
    caches.of(Kinds.Title).upsert(at(title, "ns", "11", 1, { status: { fileCount: 3 } }));
    expect(w.take()).toEqual([]);
  });

  it("the heartbeat's label, not its name, says the cluster", () => {
    const w = wiring(ocaclusterController, caches);
    const l = lease("ams-ix-1", "s01");
    l.metadata.labels[clusterLabel] = "ams-polder-1";
    caches.of(Cached.HeartbeatLease).upsert(at(l, "ns", "10", 0));
    expect(w.take()).toEqual(["ns/ams-polder-1"]);
  });
});

describe("edge wiring", () => {
  it("wakes on a cluster's spec change, not on its status writes", () => {
    const w = wiring(edgeController(linkKeys), caches);
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "10", 1, { status: { conditions: [] } }));
    expect(w.take()).toEqual([]);
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "11", 2));
    expect(w.take()).toEqual(["ns/ams-polder-1"]);
    caches.of(Kinds.OCACluster).remove(at(ams, "ns", "12", 2));
    expect(w.take()).toEqual(["ns/ams-polder-1"]);
  });

  it("wakes every cluster, in every namespace, when the master link keys change", () => {
    const w = wiring(edgeController(linkKeys), caches);
    expect(w.take()).toEqual([]);
    keysChanged();
    expect(w.take()).toEqual(["ns/ams-ix-1", "ns/ams-polder-1", "other/ams-polder-1"]);
  });
});

describe("fill wiring", () => {
  it.each([
    {
      name: "a Placement's change → itself",
      change: (c: CacheSet) => c.of(Kinds.Placement).upsert(at(amsPlacement, "ns", "10", 1, { status: {} })),
      want: ["ns/ams-polder-1-2026-08-14"],
    },
    {
      name: "a fill Job → the Placement its label names",
      change: (c: CacheSet) => c.of(Cached.FillJob).upsert(at(job("ams-polder-1-2026-08-14"), "ns", "10", 1)),
      want: ["ns/ams-polder-1-2026-08-14"],
    },
    {
      name: "a Job that is no fill Job → nothing",
      change: (c: CacheSet) => c.of(Cached.FillJob).upsert(at(job(undefined), "ns", "10", 1)),
      want: [],
    },
    {
      name: "a cluster's spec change → its Placements, not the others'",
      change: (c: CacheSet) => {
        c.of(Kinds.OCACluster).upsert(at(ix, "ns", "10", 2));
        c.of(Kinds.OCACluster).upsert(at(ams, "ns", "11", 2));
      },
      want: ["ns/ams-polder-1-2026-08-14"],
    },
    {
      name: "a cluster's status write → nothing",
      change: (c: CacheSet) => c.of(Kinds.OCACluster).upsert(at(ams, "ns", "10", 1, { status: {} })),
      want: [],
    },
  ])("$name", ({ change, want }) => {
    const w = wiring(fillController, caches);
    w.take();
    change(caches);
    expect(w.take()).toEqual(want);
  });
});

describe("title and popularity wiring", () => {
  it.each([
    { spec: titleController, store: (c: CacheSet) => c.of(Kinds.Title), obj: title, want: "ns/night-harbor" },
    { spec: popularityController, store: (c: CacheSet) => c.of(Kinds.Popularity), obj: pop, want: "ns/eu-west" },
  ])("$want: every change of its own object, status writes included", ({ spec, store, obj, want }) => {
    const w = wiring(spec, caches);
    store(caches).upsert(at(obj, "ns", "10", 1));
    store(caches).upsert(at(obj, "ns", "11", 1, { status: {} }));
    expect(w.take()).toEqual([want]);
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "12", 2));
    expect(w.take()).toEqual([]);
  });
});
