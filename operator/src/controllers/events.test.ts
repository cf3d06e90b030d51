import { describe, expect, it } from "vitest";
import type { Condition, ServerStatus } from "../api/index.js";
import {
  edgeConfigInvalid,
  type FillChange,
  fillEvents,
  placementPlanned,
  serverHealthEvents,
  titleInvalid,
} from "./events.js";

const ref = (kind: string, name: string) => ({ apiVersion: "cdn.edgefleet.dev/v1alpha1", kind, name, namespace: "ns" });
const cluster = ref("OCACluster", "ams");
const placement = ref("Placement", "ams-1");
const window = { start: "02:00", end: "06:00", timeZone: "Europe/Amsterdam" };
const noon = new Date("2026-11-26T12:00:00Z");

const server = (name: string, health: ServerStatus["health"]): ServerStatus => ({
  name,
  headTokens: 1,
  tailTokens: 1,
  expectedBytes: 1,
  trafficShare: 0.5,
  health,
});
const cond = (type: string, status: Condition["status"], reason: string, message = ""): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: "2026-11-26T00:00:00Z",
});

describe("serverHealthEvents", () => {
  it.each([
    { name: "Healthy → Stale: ServerUnhealthy", before: "Healthy", after: "Stale", want: ["ServerUnhealthy"] },
    { name: "Stale → Healthy: ServerRecovered", before: "Stale", after: "Healthy", want: ["ServerRecovered"] },
    { name: "Unknown → Healthy (first heartbeat): nothing", before: "Unknown", after: "Healthy", want: [] },
    { name: "Stale → Stale (a reconcile again): nothing", before: "Stale", after: "Stale", want: [] },
    { name: "Healthy → Healthy: nothing", before: "Healthy", after: "Healthy", want: [] },
  ] as const)("$name", ({ before, after, want }) => {
    const events = serverHealthEvents(cluster, [server("f02", before)], [server("f02", after)]);
    expect(events.map((e) => e.reason)).toEqual(want);
    for (const e of events) expect(e.note).toContain("server f02");
  });
});

describe("placementPlanned", () => {
  it("says the ring, what it costs and when the window opens, in the site's zone", () => {
    const e = placementPlanned(
      cluster,
      placement,
      {
        name: "ams-1",
        spec: { cluster: "ams", catalogGeneration: "2026-11-26", cutoff: 80, servers: [] },
        status: { servers: [{ name: "s1", expectedBytes: 2 ** 40, trafficShare: 1 }] },
      },
      window,
      noon,
    );
    expect(e).toMatchObject({ regarding: cluster, related: placement, reason: "PlacementPlanned", type: "Normal" });
    expect(e.note).toBe(
      "planned placement ams-1 (catalog 2026-11-26, cutoff 80, 1Ti to fill); fill window opens at 02:00 Europe/Amsterdam (2026-11-27T01:00:00Z)",
    );
  });
});

describe("EdgeConfigInvalid and TitleInvalid: on the condition turning False, not on its staying False", () => {
  const refused = [cond("EdgeConfigured", "False", "ImageNotAllowed", "spec.edge.image: not allowed")];
  it.each([
    { name: "True → False", before: [cond("EdgeConfigured", "True", "Applied")], want: 1 },
    { name: "none → False", before: [], want: 1 },
    { name: "False → False, same reason and message", before: refused, want: 0 },
    {
      name: "False → False for another reason",
      before: [cond("EdgeConfigured", "False", "ContentPathOutsideRoot", "x")],
      want: 1,
    },
  ])("$name", ({ before, want }) => {
    expect(edgeConfigInvalid(cluster, before, refused)).toHaveLength(want);
  });

  it("TitleInvalid names the reason", () => {
    const after = [cond("Valid", "False", "DuplicatePath", "a/b.mp4 is also a file of Title x")];
    expect(titleInvalid(ref("Title", "y"), [cond("Valid", "True", "Valid")], after)[0]?.note).toMatch(
      /^DuplicatePath: a\/b.mp4/,
    );
    expect(titleInvalid(ref("Title", "y"), after, after)).toEqual([]);
  });
});

describe("fillEvents", () => {
  const base: FillChange = {
    placement,
    cluster,
    window,
    now: noon,
    before: { phase: "Pending", conditions: [] },
    after: { phase: "Pending", conditions: [] },
    startedFills: [],
    newFailures: [],
    superseded: [],
  };
  const waiting = [cond("Filled", "False", "WaitingForWindow", "0/2 servers filled; next window opens …")];
  it.each([
    { name: "nothing changed: nothing", c: base, want: [] },
    {
      name: "starts waiting for the window: FillScheduled",
      c: { ...base, after: { phase: "Pending" as const, conditions: waiting } },
      want: ["FillScheduled"],
    },
    {
      name: "still waiting (a reconcile again): nothing",
      c: {
        ...base,
        before: { phase: "Pending" as const, conditions: waiting },
        after: { phase: "Pending" as const, conditions: waiting },
      },
      want: [],
    },
    { name: "Jobs created: FillStarted", c: { ...base, startedFills: ["s1", "s2"] }, want: ["FillStarted"] },
    { name: "a Job failed: FillFailed", c: { ...base, newFailures: ["s2: failed"] }, want: ["FillFailed"] },
    {
      name: "promoted: PlacementPromoted on it and its cluster, PlacementSuperseded on the one it replaced",
      c: {
        ...base,
        before: { phase: "Filling" as const },
        after: { phase: "Active" as const },
        superseded: [ref("Placement", "ams-0")],
      },
      want: ["PlacementPromoted", "PlacementPromoted", "PlacementSuperseded"],
    },
    {
      name: "still Active: nothing",
      c: { ...base, before: { phase: "Active" as const }, after: { phase: "Active" as const } },
      want: [],
    },
    {
      name: "replaced before its fill: PlacementSuperseded",
      c: { ...base, after: { phase: "Superseded" as const } },
      want: ["PlacementSuperseded"],
    },
  ])("$name", ({ c, want }) => {
    expect(fillEvents(c).map((e) => e.reason)).toEqual(want);
  });

  it("puts each event on the object it concerns", () => {
    const events = fillEvents({
      ...base,
      before: { phase: "Filling" },
      after: { phase: "Active" },
      superseded: [ref("Placement", "ams-0")],
    });
    expect(events.map((e) => [e.reason, e.regarding.name, e.related?.name])).toEqual([
      ["PlacementPromoted", "ams-1", "ams"],
      ["PlacementPromoted", "ams", "ams-1"],
      ["PlacementSuperseded", "ams-0", "ams-1"],
    ]);
    expect(events[0]?.note).toBe(
      "placement ams-1 promoted: every server filled, steering sends clients by it; supersedes ams-0",
    );
  });
});
