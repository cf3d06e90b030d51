import { describe, expect, it } from "vitest";
import { mustParse, type Placement } from "../api/index.js";
import { loadSamples } from "../api/testdata/samples.js";
import { regionCatalog } from "../catalog/catalog.js";
import { planHca } from "../placement/index.js";
import { type ClusterObservation, decide, placementName } from "./cluster-plan.js";

const all = loadSamples().map((s) => s.object);
const titles = all.filter((o) => o.kind === "Title").map((o) => mustParse("Title", o));
const pop = all.filter((o) => o.kind === "Popularity").map((o) => mustParse("Popularity", o));
const ams = mustParse(
  "OCACluster",
  all.find((o) => o.metadata.name === "ams-polder-1"),
);
const catalog = regionCatalog(
  "eu-west",
  titles,
  pop.find((p) => p.spec.region === "eu-west"),
);
const now = new Date("2026-11-26T12:00:00Z");

const observe = (over: Partial<ClusterObservation> = {}): ClusterObservation => ({
  cluster: ams,
  catalog,
  placements: [],
  heartbeats: new Map(),
  now,
  ...over,
});
const cond = (d: ReturnType<typeof decide>, type: string) => d.status.conditions?.find((c) => c.type === type);
const placementFrom = (d: ReturnType<typeof decide>, phase: "Pending" | "Active", created: string): Placement => {
  if (!d.create) throw new Error("no placement created");
  return {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name: d.create.name, creationTimestamp: created } as Placement["metadata"],
    spec: d.create.spec,
    status: { ...d.create.status, phase },
  };
};

describe("decide (OCACluster)", () => {
  it("plans a first Placement whose name is a function of its ring", () => {
    const d = decide(observe(), planHca);
    expect(d.create?.spec.catalogGeneration).toBe(catalog.generation);
    expect(d.create?.spec.servers.map((s) => s.name).sort()).toEqual(ams.spec.servers.map((s) => s.name).sort());
    expect(d.create?.name).toBe(placementName("ams-polder-1", d.create?.spec ?? ({} as never)));
    expect(cond(d, "Placed")).toMatchObject({ status: "True", reason: "Planned" });
    expect(cond(d, "Ready")).toMatchObject({ status: "False", reason: "NoActivePlacement" });
    expect(d.status.capacity).toMatchObject({ servers: 6, readyServers: 0 });
  });

  it("does nothing new while the newest Placement matches the snapshot and the servers", () => {
    const first = decide(observe(), planHca);
    const d = decide(observe({ placements: [placementFrom(first, "Active", "2026-11-25T00:00:00Z")] }), planHca);
    expect(d.create).toBeUndefined();
    expect(cond(d, "Placed")).toMatchObject({ status: "True", reason: "UpToDate" });
    expect(cond(d, "Filled")).toMatchObject({ status: "True" });
  });

  it("repeats the pending Placement's fill trouble in its own Filled condition", () => {
    const first = decide(observe(), planHca);
    const pending = placementFrom(first, "Pending", "2026-11-25T00:00:00Z");
    const message = "5/6 servers filled; s03: needs 5Gi, 1Gi free on its disk";
    const stuck = {
      ...pending,
      status: {
        ...pending.status,
        phase: "Filling" as const,
        conditions: [
          {
            type: "Filled",
            status: "False" as const,
            reason: "InsufficientSpace",
            message,
            lastTransitionTime: "2026-11-26T03:00:00Z",
          },
        ],
      },
    };
    const d = decide(observe({ placements: [stuck] }), planHca);
    expect(cond(d, "Filled")).toMatchObject({
      status: "False",
      reason: "FillPending",
      message: `placement ${pending.metadata.name} waits for its fill: ${message}`,
    });
  });

  it("plans again when a server is added, and reports the churn against the active Placement", () => {
    const first = decide(observe(), planHca);
    const s = ams.spec.servers[0];
    if (!s) throw new Error("sample has no servers");
    const bigger = {
      ...ams,
      spec: { ...ams.spec, servers: [...ams.spec.servers, { ...s, name: "s99", node: "n99" }] },
    };
    const d = decide(
      observe({ cluster: bigger, placements: [placementFrom(first, "Active", "2026-11-25T00:00:00Z")] }),
      planHca,
    );
    expect(d.create?.spec.servers.some((x) => x.name === "s99")).toBe(true);
    expect(d.create?.status.churn?.previous).toBe(first.create?.name);
    expect(d.create?.status.churn?.bytes).toBeGreaterThan(0);
    // Files, not copies: a file fetched onto two servers counts once.
    expect(d.create?.status.churn?.files).toBeGreaterThan(0);
    expect(d.create?.status.churn?.files).toBeLessThanOrEqual(catalog.files.length);
  });

  it("a popularity rollback that plans a ring equal to a Superseded Placement's gives it a name of its own", () => {
    const first = decide(observe(), planHca);
    const old = { ...placementFrom(first, "Active", "2026-11-24T00:00:00Z"), status: { phase: "Superseded" as const } };
    const other = regionCatalog(
      "eu-west",
      titles,
      pop
        .map((p) => ({ ...p, spec: { ...p.spec, catalogGeneration: "day-2" } }))
        .find((p) => p.spec.region === "eu-west"),
    );
    const day2 = decide(observe({ catalog: other, placements: [old] }), planHca);
    const active = placementFrom(day2, "Active", "2026-11-25T00:00:00Z");
    // Back to day 1's catalog: a plan that gives day 1's ring again (HCA may, with the same inputs).
    const sameRing = (i: Parameters<typeof planHca>[0]) => ({
      ...planHca(i),
      plan: { ...planHca(i).plan, ...old.spec },
    });
    const d = decide(observe({ placements: [old, active] }), sameRing);
    expect(d.create?.spec).toEqual(old.spec);
    expect(d.create?.name).not.toBe(old.metadata.name);
    expect(d.create?.name).toBe(
      placementName("ams-polder-1", old.spec, new Set([old.metadata.name, active.metadata.name])),
    );
    // Placed, then seen: the new one is the newest live Placement for this catalog, so nothing more is planned.
    const again = decide(
      observe({ placements: [old, active, placementFrom(d, "Pending", "2026-11-26T00:00:00Z")] }),
      sameRing,
    );
    expect(again.create).toBeUndefined();
  });

  it("placementName: the same ring and Placements give the same name; a taken name is skipped", () => {
    const spec = decide(observe(), planHca).create?.spec ?? ({} as never);
    const first = placementName("c", spec);
    expect(placementName("c", spec)).toBe(first);
    expect(first).toMatch(/^c-[0-9a-f]{10}$/);
    const second = placementName("c", spec, new Set([first]));
    expect(second).toMatch(/^c-[0-9a-f]{10}$/);
    expect(second).not.toBe(first);
    expect(placementName("c", spec, new Set([first]))).toBe(second);
    expect(placementName("c", spec, new Set([first, second]))).not.toBe(second);
  });

  it.each([{ name: "an infeasible fixed cutoff → Placed=False Infeasible", cutoff: 100_000, reason: "Infeasible" }])(
    "$name",
    ({ cutoff, reason }) => {
      const pinned = { ...ams, spec: { ...ams.spec, hca: { cutoff, hysteresis: 0.05 } } };
      const d = decide(observe({ cluster: pinned }), planHca);
      expect(d.create).toBeUndefined();
      expect(cond(d, "Placed")).toMatchObject({ status: "False", reason });
    },
  );

  it("reports an empty regional catalog", () => {
    const d = decide(observe({ catalog: regionCatalog("nowhere", titles, undefined) }), planHca);
    expect(cond(d, "Placed")).toMatchObject({ status: "False", reason: "EmptyCatalog" });
  });

  it("counts fresh heartbeats as ready servers and stale ones as Degraded", () => {
    const [a, b] = ams.spec.servers;
    if (!a || !b) throw new Error("sample has too few servers");
    const heartbeats = new Map([
      [a.name, { observedAt: now.getTime() - 5_000, leaseDurationSeconds: 30 }],
      [b.name, { observedAt: now.getTime() - 60_000, leaseDurationSeconds: 30 }],
    ]);
    const d = decide(observe({ heartbeats }), planHca);
    expect(d.status.capacity?.readyServers).toBe(1);
    expect(cond(d, "Degraded")).toMatchObject({ status: "True", reason: "StaleHeartbeats" });
    expect(cond(d, "Degraded")?.message).toContain(b.name);
    expect(d.status.servers?.find((s) => s.name === a.name)?.health).toBe("Healthy");
    expect(d.recheckAfterMs).toBeLessThanOrEqual(25_000); // when a's heartbeat expires
  });
});

describe("decide (heartbeats by each Lease's own duration)", () => {
  it.each([
    { name: "a 3 s Lease seen 4 s ago is stale", duration: 3, seenMsAgo: 4_000, health: "Stale" },
    { name: "a 600 s Lease seen 5 min ago is healthy", duration: 600, seenMsAgo: 300_000, health: "Healthy" },
    { name: "a 30 s Lease seen 30 s ago is still healthy", duration: 30, seenMsAgo: 30_000, health: "Healthy" },
  ])("$name", ({ duration, seenMsAgo, health }) => {
    const [a] = ams.spec.servers;
    if (!a) throw new Error("sample has no servers");
    const heartbeats = new Map([[a.name, { observedAt: now.getTime() - seenMsAgo, leaseDurationSeconds: duration }]]);
    const d = decide(observe({ heartbeats }), planHca);
    expect(d.status.servers?.find((s) => s.name === a.name)?.health).toBe(health);
  });
});

describe("decide (status stability)", () => {
  it("writes the same status for a newer heartbeat of a server that stays healthy", () => {
    const [a] = ams.spec.servers;
    if (!a) throw new Error("sample has no servers");
    const at = (ms: number) => new Map([[a.name, { observedAt: now.getTime() - ms, leaseDurationSeconds: 30 }]]);
    const first = decide(observe({ heartbeats: at(9_000) }), planHca).status;
    const later = decide(observe({ heartbeats: at(1_000), cluster: { ...ams, status: first } }), planHca).status;
    expect(later).toEqual(first);
  });

  it("writes the same status seconds later while the fill window is open: nextFill is the next opening", () => {
    const window = { start: "11:00", end: "15:00", timeZone: "UTC" }; // open at 12:00
    const cluster = { ...ams, spec: { ...ams.spec, fill: { ...ams.spec.fill, window } } };
    const first = decide(observe({ cluster }), planHca).status;
    const later = new Date(now.getTime() + 7_300);
    const again = decide(observe({ cluster: { ...cluster, status: first }, now: later }), planHca).status;
    expect(first.nextFill).toBe("2026-11-27T11:00:00Z");
    expect(again).toEqual(first);
  });
});
