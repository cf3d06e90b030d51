/**
 * The fill reconciler around its decider: what a failed Job's agent reported (its pod's termination
 * message, read from the API once per failure) reaches the Placement's Filled condition, and
 * Superseded Placements past the kept ones are deleted.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Cached, formatAgentReport, jobLabel, type Kind, Kinds, placementLabel, serverLabel } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { at, fakeCaches, keptEvents } from "../runtime/testing.js";
import { defaultEdgePolicy } from "./edge-policy.js";
import { makeFillReconciler, progressWriteEveryMs } from "./fill.js";
import { defaultFillPolicy, fillJobName } from "./fill-job.js";

const ams = sample("OCACluster", "ams-polder-1");
const placement = sample("Placement", "ams-polder-1-2026-08-14");
const name = placement.metadata.name;
const servers = (ams.spec as { servers: { name: string }[] }).servers.map((s) => s.name);
const now = new Date("2026-08-15T03:00:00Z"); // inside the sample's fill window

const job = (server: string, condition: "Complete" | "Failed") => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: {
    name: fillJobName(name, server),
    labels: { [placementLabel]: name, [serverLabel]: server, [jobLabel]: "fill" },
  },
  status: { conditions: [{ type: condition, status: "True", lastTransitionTime: "2026-08-15T02:59:00Z" }] },
});

/** An API that lists the failed Job's pod, with the agent's report as its termination message. */
function fakeKube(message: string) {
  const calls = { podLists: 0, applied: [] as KubeObject[], deleted: [] as string[] };
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "fill-pod" },
    status: {
      containerStatuses: [
        { name: "fill", state: { terminated: { exitCode: 4, message, finishedAt: "2026-08-15T02:59:00Z" } } },
      ],
    },
  };
  const kube = {
    list: async <T extends KubeObject>(kind: Kind) => {
      if (kind.plural === "pods") calls.podLists++;
      return { items: (kind.plural === "pods" ? [pod] : []) as unknown as T[], resourceVersion: "1" };
    },
    apply: async <T extends KubeObject>(_k: Kind, obj: KubeObject) => {
      calls.applied.push(obj);
      return obj as T;
    },
    create: async <T extends KubeObject>(_k: Kind, obj: KubeObject) => obj as T,
    delete: async (_k: Kind, key: { name: string }) => {
      calls.deleted.push(key.name);
    },
  };
  return { kube, calls };
}

function setup(message: string, siblings: KubeObject[] = []) {
  const caches = fakeCaches();
  caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
  caches.of(Kinds.Placement).upsert(at(placement, "ns", "2", 1, { status: { phase: "Filling" } }));
  for (const s of siblings) caches.of(Kinds.Placement).upsert(s);
  const [first = "", ...rest] = servers;
  caches.of(Cached.FillJob).upsert(at(job(first, "Failed"), "ns", "3", 1));
  for (const [i, s] of rest.entries()) caches.of(Cached.FillJob).upsert(at(job(s, "Complete"), "ns", `${4 + i}`, 1));
  const { kube, calls } = fakeKube(message);
  const events = keptEvents();
  const r = makeFillReconciler({
    events,
    kube,
    placements: caches.of(Kinds.Placement),
    clusters: caches.of(Kinds.OCACluster),
    jobs: caches.of(Cached.FillJob),
    now: () => now,
    policy: defaultEdgePolicy,
    agentServiceAccount: "agent",
    ...defaultFillPolicy,
  });
  const ctx = { log: pino({ level: "silent" }), signal: new AbortController().signal };
  return { reconcile: () => r.reconcile({ namespace: "ns", name }, ctx), calls, first, events: events.events };
}

describe("fill reconciler", () => {
  it("says in the Filled condition which server lacks what, from its agent's report, read once", async () => {
    const report = formatAgentReport({
      mode: "fill",
      server: "s01",
      space: { needBytes: 5 * 2 ** 30, freeBytes: 2 ** 30 },
    });
    const { reconcile, calls, first, events } = setup(report);
    await reconcile();
    await reconcile();
    expect(calls.podLists).toBe(1);
    // One failure, one Warning, however often the Placement is reconciled.
    expect(events.map((e) => [e.type, e.reason, e.regarding.name, e.note])).toEqual([
      ["Warning", "FillFailed", name, `${first}: needs 5Gi, 1Gi free on its disk`],
    ]);
    const status = calls.applied[0]?.status as {
      phase: string;
      conditions: { type: string; reason: string; message: string }[];
    };
    expect(status.phase).toBe("Filling");
    const filled = status.conditions.find((c) => c.type === "Filled");
    expect(filled?.reason).toBe("InsufficientSpace");
    expect(filled?.message).toContain(
      `${servers.length - 1}/${servers.length} servers filled; ${first}: needs 5Gi, 1Gi free`,
    );
  });

  it("a message that is no report (the logs' tail) still names the server", async () => {
    const { reconcile, calls, first } = setup("panic: something went wrong");
    await reconcile();
    const status = calls.applied[0]?.status as { conditions: { type: string; message: string }[] };
    expect(status.conditions.find((c) => c.type === "Filled")?.message).toContain(`${first}: failed`);
  });

  it("deletes Superseded Placements past the kept ones, once their files are no longer protected", async () => {
    const old = (i: number) =>
      at(
        { ...placement, metadata: { name: `old-${i}`, creationTimestamp: `2026-08-0${i}T00:00:00Z` } },
        "ns",
        `${10 + i}`,
        1,
        {
          status: { phase: "Superseded", supersededAt: "2026-08-10T00:00:00Z" },
        },
      );
    const { reconcile, calls } = setup("", [1, 2, 3, 4, 5].map(old));
    await reconcile();
    expect(calls.deleted).toEqual(["old-1", "old-2"]);
  });

  it("writes progress alone at most every few seconds; a change of phase at once", async () => {
    const caches = fakeCaches();
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    const running = (server: string) => ({ ...job(server, "Complete"), status: {} });
    const jobs = caches.of(Cached.FillJob);
    servers.forEach((s, i) => {
      jobs.upsert(at(i === 0 ? job(s, "Complete") : running(s), "ns", `${10 + i}`, 1));
    });
    const { kube, calls } = fakeKube("");
    let clock = now.getTime();
    const r = makeFillReconciler({
      events: keptEvents(),
      kube,
      placements: caches.of(Kinds.Placement),
      clusters: caches.of(Kinds.OCACluster),
      jobs,
      now: () => new Date(clock),
      policy: defaultEdgePolicy,
      agentServiceAccount: "agent",
      ...defaultFillPolicy,
    });
    const ctx = { log: pino({ level: "silent" }), signal: new AbortController().signal };
    let rv = 100;
    /** Reconciles, then caches what was written, as the watch would bring it back. */
    const reconcile = async () => {
      const before = calls.applied.length;
      const res = await r.reconcile({ namespace: "ns", name }, ctx);
      const wrote = calls.applied.at(-1);
      if (calls.applied.length > before && wrote) {
        caches.of(Kinds.Placement).upsert(at(placement, "ns", `${rv++}`, 1, { status: wrote.status }));
      }
      return { res, wrote: calls.applied.length > before };
    };
    caches.of(Kinds.Placement).upsert(at(placement, "ns", "2", 1, { status: { phase: "Filling" } }));
    expect((await reconcile()).wrote).toBe(true); // 1/n filled: the first write goes out
    const [, second = "", ...rest] = servers;
    jobs.upsert(at(job(second, "Complete"), "ns", "50", 1));
    clock += 1000;
    const held = await reconcile();
    expect(held.wrote).toBe(false); // 2/n: progress only, a second after the last write
    expect(held.res.requeueAfterMs).toBe(progressWriteEveryMs - 1000);
    clock += progressWriteEveryMs;
    expect((await reconcile()).wrote).toBe(true); // due now
    for (const [i, s] of rest.entries()) jobs.upsert(at(job(s, "Complete"), "ns", `${60 + i}`, 1));
    clock += 100;
    expect((await reconcile()).wrote).toBe(true); // every server filled: Active at once
    expect(calls.applied.at(-1)?.status).toMatchObject({ phase: "Active" });
  });
});
