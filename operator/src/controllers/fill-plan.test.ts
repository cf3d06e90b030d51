import { describe, expect, it } from "vitest";
import { type OCACluster, type Placement, promotedAt } from "../api/index.js";
import { defaultFillPolicy, fillJobName } from "./fill-job.js";
import { decideFill, describeFailure, type FillJob, type FillObservation, progressOnly } from "./fill-plan.js";

const cluster = {
  apiVersion: "cdn.edgefleet.dev/v1alpha1",
  kind: "OCACluster",
  metadata: { name: "c1" },
  spec: {
    servers: [
      { name: "s1", node: "n1", class: "x", ipv4: "192.0.2.1" },
      { name: "s2", node: "n2", class: "x", ipv4: "192.0.2.2" },
    ],
    fill: { window: { start: "02:00", end: "06:00", timeZone: "UTC" } },
  },
} as unknown as OCACluster;

const placement = (name: string, phase: NonNullable<Placement["status"]>["phase"], created: string): Placement =>
  ({
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name, creationTimestamp: created, generation: 1 },
    spec: {
      cluster: "c1",
      catalogGeneration: "g",
      cutoff: 0,
      servers: [
        { name: "s1", headTokens: 0, tailTokens: 10 },
        { name: "s2", headTokens: 0, tailTokens: 10 },
      ],
    },
    status: { phase },
  }) as Placement;

/** The Placement with status fields of `extra` beside its phase. */
const status = (p: Placement, extra: Partial<NonNullable<Placement["status"]>>): Placement => ({
  ...p,
  status: { ...p.status, ...extra },
});

const inWindow = new Date("2026-11-26T03:00:00Z");
const outside = new Date("2026-11-26T12:00:00Z");
const job = (server: string, state: FillJob["state"], mode: FillJob["mode"] = "fill"): FillJob => ({
  name: fillJobName("p2", server, mode),
  server,
  mode,
  state,
});
const observe = (o: Partial<FillObservation>): FillObservation => ({
  placement: placement("p2", "Pending", "2026-11-26T01:00:00Z"),
  cluster,
  siblings: [],
  jobs: [],
  policy: defaultFillPolicy,
  now: inWindow,
  ...o,
});

describe("decideFill", () => {
  it.each([
    {
      name: "Pending outside the window waits",
      o: observe({ now: outside }),
      phase: "Pending",
      jobs: 0,
      reason: "WaitingForWindow",
    },
    {
      name: "Pending inside the window starts one Job per server",
      o: observe({}),
      phase: "Filling",
      jobs: 2,
      reason: "Filling",
    },
    {
      name: "Filling with one Job left keeps filling",
      o: observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        jobs: [job("s1", "Complete"), job("s2", "Running")],
      }),
      phase: "Filling",
      jobs: 0,
      reason: "Filling",
    },
    {
      name: "Pending overtaken by a newer Placement is superseded",
      o: observe({ siblings: [placement("p3", "Pending", "2026-11-26T02:00:00Z")] }),
      phase: "Superseded",
      jobs: 0,
      reason: "Superseded",
    },
  ])("$name", ({ o, phase, jobs, reason }) => {
    const d = decideFill(o);
    expect(d.status.phase).toBe(phase);
    expect(d.createJobs).toHaveLength(jobs);
    expect(d.status.conditions?.find((c) => c.type === "Filled")?.reason).toBe(reason);
  });

  it("runs each server's Job on its node, bounded by the window's end", () => {
    const d = decideFill(observe({}));
    expect(d.createJobs.map((j) => [j.server, j.node])).toEqual([
      ["s1", "n1"],
      ["s2", "n2"],
    ]);
    expect(d.createJobs[0]?.activeDeadlineSeconds).toBe(3 * 3600);
  });

  it("becomes Active when every Job completed and supersedes the previous Active", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        siblings: [placement("p1", "Active", "2026-11-25T01:00:00Z")],
        jobs: [job("s1", "Complete"), job("s2", "Complete")],
      }),
    );
    expect(d.status.phase).toBe("Active");
    expect(d.supersede).toEqual(["p1"]);
  });

  it.each([
    {
      name: "files that failed their sha256 or fetch",
      report: { mode: "fill", server: "s2", failed: { files: 3, bytes: 3 * 2 ** 20 } },
      reason: "FillFailed",
      says: "1/2 servers filled; s2: 3 files (3Mi) failed",
    },
    {
      name: "a disk too small",
      report: { mode: "fill", server: "s2", space: { needBytes: 5 * 2 ** 30, freeBytes: 2 ** 30 } },
      reason: "InsufficientSpace",
      says: "s2: needs 5Gi, 1Gi free on its disk",
    },
    {
      name: "a refusal",
      report: { mode: "fill", server: "s2", error: "/srv/content has files but no .edgefleet/content-root" },
      reason: "FillFailed",
      says: "s2: /srv/content has files but no .edgefleet/content-root",
    },
    { name: "no report (the pod was killed)", report: undefined, reason: "FillFailed", says: "s2: failed" },
  ] as const)(
    "an incomplete server keeps the Placement Filling, its condition saying which and why: $name",
    ({ report, reason, says }) => {
      const failed = { ...job("s2", "Failed"), failedAt: inWindow, report };
      const d = decideFill(
        observe({
          placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
          jobs: [job("s1", "Complete"), failed],
        }),
      );
      expect(d.status.phase).toBe("Filling");
      const filled = d.status.conditions?.find((c) => c.type === "Filled");
      expect(filled?.reason).toBe(reason);
      expect(filled?.message).toContain(says);
      expect(describeFailure(failed)).toBe(says.slice(says.indexOf("s2")));
    },
  );

  it("inside the window, a failed fill Job runs again retryFailedAfterSeconds after it failed", () => {
    const p = placement("p2", "Filling", "2026-11-26T01:00:00Z");
    const failed = { ...job("s2", "Failed"), failedAt: new Date("2026-11-26T02:58:00Z") };
    const early = decideFill(observe({ placement: p, jobs: [job("s1", "Complete"), failed] }));
    expect(early.deleteJobs).toEqual([]);
    expect(early.recheckAfterMs).toBe(8 * 60_000);
    const due = decideFill(
      observe({ placement: p, jobs: [job("s1", "Complete"), failed], now: new Date("2026-11-26T03:08:00Z") }),
    );
    expect(due.deleteJobs).toEqual([fillJobName("p2", "s2")]);
    const next = decideFill(
      observe({ placement: p, jobs: [job("s1", "Complete")], now: new Date("2026-11-26T03:08:01Z") }),
    );
    expect(next.createJobs.map((j) => j.server)).toEqual(["s2"]);
  });

  it("deletes failed Jobs after the window so the next window retries them", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        now: outside,
        jobs: [job("s1", "Complete"), job("s2", "Failed")],
      }),
    );
    expect(d.status.phase).toBe("Filling");
    expect(d.deleteJobs).toEqual([fillJobName("p2", "s2")]);
    expect(d.status.conditions?.find((c) => c.type === "Filled")?.message).toContain("s2: failed");
  });

  it("once Active, runs one evict Job per server, once, after the signed-URL lifetime", () => {
    const active = status(placement("p2", "Active", "2026-11-26T01:00:00Z"), { promotedAt: "2026-11-26T02:00:00Z" });
    const first = decideFill(observe({ placement: active, now: new Date("2026-11-26T08:00:00Z") }));
    expect(first.createJobs.map((j) => [j.mode, j.server])).toEqual([
      ["evict", "s1"],
      ["evict", "s2"],
    ]);
    const again = decideFill(
      observe({
        placement: active,
        now: new Date("2026-11-26T08:00:01Z"),
        jobs: [job("s1", "Complete", "evict"), job("s2", "Running", "evict")],
      }),
    );
    expect(again.createJobs).toEqual([]);
    expect(again.status.evictedServers).toEqual(["s1"]);
  });

  it.each([
    {
      name: "just promoted",
      now: "2026-11-26T02:00:00Z",
      evicts: 0,
      recheckS: 6 * 3600,
      reason: "WaitingForSignedUrls",
    },
    {
      name: "a second before the URLs expire",
      now: "2026-11-26T07:59:59Z",
      evicts: 0,
      recheckS: 1,
      reason: "WaitingForSignedUrls",
    },
    { name: "once they have expired", now: "2026-11-26T08:00:00Z", evicts: 2, recheckS: undefined, reason: "Evicting" },
  ])("evict waits evictDelaySeconds after promotion (fake clock): $name", ({ now, evicts, recheckS, reason }) => {
    const active = status(placement("p2", "Active", "2026-11-26T01:00:00Z"), { promotedAt: "2026-11-26T02:00:00Z" });
    const d = decideFill(observe({ placement: active, now: new Date(now) }));
    expect(d.createJobs.filter((j) => j.mode === "evict")).toHaveLength(evicts);
    expect(d.recheckAfterMs).toBe(recheckS === undefined ? undefined : recheckS * 1000);
    expect(d.status.conditions?.find((c) => c.type === "Evicted")?.reason).toBe(reason);
    expect(d.status.promotedAt).toBe("2026-11-26T02:00:00Z");
  });

  it("the delay is the policy's: an e2e run may set seconds", () => {
    const active = status(placement("p2", "Active", "2026-11-26T01:00:00Z"), { promotedAt: "2026-11-26T02:00:00Z" });
    const policy = { ...defaultFillPolicy, evictDelaySeconds: 5 };
    expect(
      decideFill(observe({ placement: active, policy, now: new Date("2026-11-26T02:00:04Z") })).createJobs,
    ).toEqual([]);
    expect(
      decideFill(observe({ placement: active, policy, now: new Date("2026-11-26T02:00:05Z") })).createJobs,
    ).toHaveLength(2);
  });

  it("records the promotion time, and the supersession time of the Placement it replaces", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        siblings: [placement("p1", "Active", "2026-11-25T01:00:00Z")],
        jobs: [job("s1", "Complete"), job("s2", "Complete")],
      }),
    );
    expect(d.status).toMatchObject({
      phase: "Active",
      promotedAt: "2026-11-26T03:00:00Z",
      filledServers: ["s1", "s2"],
    });
    expect(d.supersede).toEqual(["p1"]);
    // Promoted before promotedAt existed: the Filled condition's transition stands in.
    const legacy = status(placement("p0", "Active", "2026-11-20T01:00:00Z"), {
      conditions: [
        {
          type: "Filled",
          status: "True",
          reason: "AllServersFilled",
          message: "",
          lastTransitionTime: "2026-11-20T04:00:00Z",
        },
      ],
    });
    expect(promotedAt(legacy)?.toISOString()).toBe("2026-11-20T04:00:00.000Z");
  });

  it("a server whose fill Job was deleted by its TTL stays filled: it is in status, not run again", () => {
    const p = status(placement("p2", "Filling", "2026-11-26T01:00:00Z"), { filledServers: ["s1"] });
    const d = decideFill(observe({ placement: p, jobs: [job("s2", "Running")] }));
    expect(d.createJobs).toEqual([]);
    expect(d.status.filledServers).toEqual(["s1"]);
    const done = decideFill(observe({ placement: p, jobs: [job("s2", "Complete")] }));
    expect(done.status.phase).toBe("Active");
  });

  it("an evicted server whose Job was deleted by its TTL is not evicted again", () => {
    const active = status(placement("p2", "Active", "2026-11-26T01:00:00Z"), {
      promotedAt: "2026-11-26T02:00:00Z",
      evictedServers: ["s1", "s2"],
    });
    const d = decideFill(observe({ placement: active, now: new Date("2026-11-27T02:00:00Z") }));
    expect(d.createJobs).toEqual([]);
    expect(d.status.conditions?.find((c) => c.type === "Evicted")).toMatchObject({ status: "True", reason: "Evicted" });
  });

  it("supersedes a Filling placement when a newer one exists (its agents would refuse the moved catalog)", () => {
    const d = decideFill(
      observe({
        placement: placement("p2", "Filling", "2026-11-26T01:00:00Z"),
        siblings: [placement("p3", "Pending", "2026-11-26T02:00:00Z")],
      }),
    );
    expect(d.status.phase).toBe("Superseded");
  });

  it.each([
    { name: "keeps the newest 3 superseded", superseded: 3, ago: 7 * 3600, deleted: [] },
    { name: "deletes the oldest past 3", superseded: 5, ago: 7 * 3600, deleted: ["old-0", "old-1"] },
    { name: "not while their files are protected", superseded: 5, ago: 3600, deleted: [] },
  ])("superseded Placements: $name", ({ superseded, ago, deleted }) => {
    const at = new Date(inWindow.getTime() - ago * 1000).toISOString();
    const old = Array.from({ length: superseded }, (_, i) =>
      status(placement(`old-${i}`, "Superseded", `2026-11-2${i}T01:00:00Z`), { supersededAt: at }),
    );
    const d = decideFill(observe({ siblings: old }));
    expect(d.deletePlacements).toEqual(deleted);
    if (ago * 1000 < defaultFillPolicy.evictDelaySeconds * 1000 && superseded > 3) {
      expect(d.recheckAfterMs).toBeLessThanOrEqual((defaultFillPolicy.evictDelaySeconds - ago) * 1000);
    }
  });

  it("a Pending Placement overtaken by a newer one records when", () => {
    const d = decideFill(observe({ siblings: [placement("p3", "Pending", "2026-11-26T02:00:00Z")] }));
    expect(d.status).toMatchObject({ phase: "Superseded", supersededAt: "2026-11-26T03:00:00Z" });
  });

  it("keeps Job names within 63 characters", () => {
    expect(fillJobName("p".repeat(200), "s".repeat(63)).length).toBeLessThanOrEqual(63);
  });
});

describe("progressOnly", () => {
  const cond = (reason: string, message: string) => ({
    type: "Filled",
    status: "False" as const,
    reason,
    message,
    lastTransitionTime: "2026-08-15T02:00:00Z",
  });
  const filling = (reason: string, message: string) => ({
    phase: "Filling" as const,
    conditions: [cond(reason, message)],
  });
  it.each([
    { name: "more servers filled", next: filling("Filling", "3/5 servers filled"), progress: true },
    {
      name: "a first failure (its reason)",
      next: filling("FillFailed", "2/5 servers filled; s1: failed"),
      progress: false,
    },
    {
      name: "a new phase",
      next: { ...filling("AllServersFilled", "5 servers filled"), phase: "Active" as const },
      progress: false,
    },
  ])("$name: $progress", ({ next, progress }) => {
    expect(progressOnly(filling("Filling", "2/5 servers filled"), next)).toBe(progress);
  });
});
