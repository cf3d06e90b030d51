import { describe, expect, it } from "vitest";
import { heartbeatLease, heartbeatOf } from "./heartbeat.js";

const load = {
  connections: 12,
  bytesPerSec: 1.5e9,
  diskUsedBytes: 10,
  diskTotalBytes: 100,
  ktls: "unavailable" as const,
};
const now = new Date("2026-11-26T10:00:00.123Z");

describe("heartbeat lease", () => {
  it("round-trips cluster, server, renew time and load", () => {
    const l = heartbeatLease({
      namespace: "edge",
      cluster: "ams-1",
      server: "oca-1",
      load,
      now,
      leaseDurationSeconds: 30,
    });
    expect(l.metadata.name).toBe("edge-ams-1-oca-1");
    expect(l.spec.renewTime).toBe("2026-11-26T10:00:00.123000Z");
    expect(heartbeatOf(l)).toEqual({
      cluster: "ams-1",
      server: "oca-1",
      renewTime: now,
      leaseDurationSeconds: 30,
      load,
    });
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
