import { describe, expect, it } from "vitest";
import { heartbeatExpiry, heartbeatLease, heartbeatOf, isStale, maxLeaseDurationSeconds } from "./heartbeat.js";

const load = {
  connections: 12,
  bytesPerSec: 1.5e9,
  diskUsedBytes: 10,
  diskTotalBytes: 100,
  ktls: "unavailable" as const,
};
const now = new Date("2026-11-26T10:00:00.123Z");
const lease = (at: Date) =>
  heartbeatLease({ namespace: "edge", cluster: "ams-1", server: "oca-1", load, now: at, leaseDurationSeconds: 30 });

describe("heartbeat lease", () => {
  it("round-trips cluster, server, renew time and load", () => {
    const l = lease(now);
    expect(l.metadata.name).toBe("edge-ams-1-oca-1");
    expect(l.spec.renewTime).toBe("2026-11-26T10:00:00.123000Z");
    expect(heartbeatOf(l)).toEqual({
      cluster: "ams-1",
      server: "oca-1",
      renewTime: now,
      leaseDurationSeconds: 30,
      load,
      linkKids: undefined,
    });
  });

  it.each([
    { name: "two kids", kids: ["k1", "k2"], annotation: "k1,k2", want: ["k1", "k2"] },
    { name: "no key held", kids: [], annotation: "", want: [] },
    { name: "not asked", kids: undefined, annotation: undefined, want: undefined },
  ])("carries the link kids its nginx holds: $name", ({ kids, annotation, want }) => {
    const l = heartbeatLease({
      namespace: "e",
      cluster: "c",
      server: "s",
      load,
      now,
      leaseDurationSeconds: 30,
      linkKids: kids,
    });
    expect(l.metadata.annotations["cdn.edgefleet.dev/link-kids"]).toBe(annotation);
    expect(heartbeatOf(l)?.linkKids).toEqual(want);
  });

  it("malformed link kids count as not reported", () => {
    const l = lease(now);
    l.metadata.annotations["cdn.edgefleet.dev/link-kids"] = "k1,,K2";
    expect(heartbeatOf(l)?.linkKids).toBeUndefined();
  });

  it.each([{ name: "no labels (another component's Lease)", labels: {}, annotations: {}, want: undefined }])(
    "$name → not a heartbeat",
    ({ labels, annotations, want }) => {
      expect(heartbeatOf({ metadata: { labels, annotations }, spec: { renewTime: now.toISOString() } })).toBe(want);
    },
  );

  it("a malformed load still counts as a heartbeat, with load unknown", () => {
    const l = heartbeatLease({ namespace: "edge", cluster: "c", server: "s", load, now, leaseDurationSeconds: 30 });
    l.metadata.annotations["cdn.edgefleet.dev/load"] = "{not json";
    expect(heartbeatOf(l)?.load).toBeUndefined();
    expect(heartbeatOf(l)?.server).toBe("s");
  });
});

describe("heartbeat staleness", () => {
  const seen = Date.parse("2026-11-26T10:00:00Z"); // the reader's clock when it saw the renewal
  it.each([
    { name: "just seen", duration: 30, after: 0, stale: false },
    { name: "at its own lease duration", duration: 30, after: 30_000, stale: false },
    { name: "past its own lease duration", duration: 30, after: 30_001, stale: true },
    { name: "a short lease goes stale sooner", duration: 3, after: 3_001, stale: true },
    { name: "a long lease stays fresh longer", duration: 300, after: 299_000, stale: false },
    { name: "a lease claiming more than the most counts the most", duration: 3_600, after: 300_001, stale: true },
  ])("$name → stale: $stale", ({ duration, after, stale }) => {
    expect(isStale(heartbeatExpiry({ leaseDurationSeconds: duration }, seen), seen + after)).toBe(stale);
  });

  it("a forged Lease (renewTime a year ahead, a lease of 30 years) goes stale the most after it stopped changing", () => {
    const l = lease(new Date(seen + 365 * 86_400_000));
    const hb = heartbeatOf({ ...l, spec: { ...l.spec, leaseDurationSeconds: 946_080_000 } });
    if (!hb) throw new Error("not a heartbeat");
    expect(isStale(heartbeatExpiry(hb, seen), seen + maxLeaseDurationSeconds * 1000)).toBe(false);
    expect(isStale(heartbeatExpiry(hb, seen), seen + maxLeaseDurationSeconds * 1000 + 1)).toBe(true);
  });

  it("depends on when the reader saw the renewal, not on the renewTime the edge node wrote", () => {
    const hb = heartbeatOf(lease(new Date(seen - 3_600_000))); // the node's clock is an hour behind
    if (!hb) throw new Error("not a heartbeat");
    expect(isStale(heartbeatExpiry(hb, seen), seen + 10_000)).toBe(false);
  });
});
