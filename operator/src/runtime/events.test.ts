import { describe, expect, it } from "vitest";
import { type Decision, defaultSeriesPolicy, EventCorrelator, eventObject, type NewEvent } from "./events.js";

const cluster = {
  apiVersion: "cdn.edgefleet.dev/v1alpha1",
  kind: "OCACluster",
  name: "ams",
  namespace: "ns",
  uid: "u1",
};
const stale = (server = "f02"): NewEvent => ({
  regarding: cluster,
  type: "Warning",
  reason: "ServerUnhealthy",
  action: "Heartbeat",
  note: `server ${server} heartbeat stale`,
});

function correlator() {
  const c = new EventCorrelator();
  let n = 0;
  return (e: NewEvent, t: number): Decision => c.observe(e, t, () => `ev-${++n}`);
}

describe("EventCorrelator: a repeated event is one Event with a series count, as client-go's recorder", () => {
  it("creates the first, writes the second as count 2, then counts without writing within seriesWriteMs", () => {
    const observe = correlator();
    expect(observe(stale(), 0)).toMatchObject({ write: "create", name: "ev-1", count: 1 });
    expect(observe(stale(), 1000)).toMatchObject({ write: "series", name: "ev-1", count: 2, first: 0, last: 1000 });
    for (let i = 0; i < 100; i++) expect(observe(stale(), 2000 + i).write).toBe("none");
    expect(observe(stale(), 1000 + defaultSeriesPolicy.seriesWriteMs)).toMatchObject({
      write: "series",
      name: "ev-1",
      count: 103,
    });
  });

  it("starts a new Event once a series has been quiet for the series window", () => {
    const observe = correlator();
    observe(stale(), 0);
    expect(observe(stale(), defaultSeriesPolicy.seriesWindowMs)).toMatchObject({ write: "create", name: "ev-2" });
  });

  it("keeps events with another note (another server) apart", () => {
    const observe = correlator();
    expect(observe(stale("f01"), 0).write).toBe("create");
    expect(observe(stale("f02"), 0).write).toBe("create");
  });

  it("drops distinct events past the object's burst of 25 until its bucket refills (one per 5 min)", () => {
    const observe = correlator();
    const writes = Array.from({ length: 30 }, (_, i) => observe(stale(`s${i}`), 0).write);
    expect(writes.filter((w) => w === "create")).toHaveLength(25);
    expect(writes.slice(25)).toEqual(["none", "none", "none", "none", "none"]);
    expect(observe(stale("late"), defaultSeriesPolicy.refillMs).write).toBe("create");
    // Another object has its own bucket.
    expect(observe({ ...stale(), regarding: { ...cluster, name: "iad" } }, 0).write).toBe("create");
  });
});

describe("eventObject", () => {
  const reporting = { controller: "cdn.edgefleet.dev/operator", instance: "op-1" };
  it("is an events.k8s.io/v1 Event in the regarding object's namespace, MicroTime stamps, series from count 2", () => {
    const first = eventObject(stale(), { write: "create", name: "ams.1", count: 1, first: 0, last: 0 }, reporting);
    expect(first).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "ams.1", namespace: "ns" },
      eventTime: "1970-01-01T00:00:00.000000Z",
      reportingController: "cdn.edgefleet.dev/operator",
      reportingInstance: "op-1",
      regarding: cluster,
    });
    expect(first).not.toHaveProperty("series");
    const again = eventObject(stale(), { write: "series", name: "ams.1", count: 3, first: 0, last: 1500 }, reporting);
    expect(again.series).toEqual({ count: 3, lastObservedTime: "1970-01-01T00:00:01.500000Z" });
  });

  it("cuts a note over the API server's 1 kB limit", () => {
    const e = eventObject(
      { ...stale(), note: "x".repeat(5000) },
      { write: "create", name: "a", count: 1, first: 0, last: 0 },
      reporting,
    );
    expect(Buffer.byteLength(e.note)).toBeLessThanOrEqual(1024);
  });
});
