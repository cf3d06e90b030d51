import { describe, expect, it } from "vitest";
import { canAcquire, type Lease } from "./leader.js";

const lease = (holder: string, renewTime: string, seconds = 15): Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "l", namespace: "ns" },
  spec: { holderIdentity: holder, renewTime, leaseDurationSeconds: seconds },
});
const t0 = new Date("2026-11-26T12:00:00.000Z");

describe("canAcquire", () => {
  it.each([
    { name: "no lease yet", lease: undefined, want: true },
    { name: "released (empty holder)", lease: lease("", t0.toISOString()), want: true },
    { name: "mine", lease: lease("me", t0.toISOString()), want: true },
    { name: "another's, renewed 5 s ago", lease: lease("other", "2026-11-26T11:59:55.000Z"), want: false },
    { name: "another's, expired 1 s ago", lease: lease("other", "2026-11-26T11:59:44.000Z"), want: true },
  ])("$name → $want", ({ lease, want }) => {
    expect(canAcquire(lease, "me", t0)).toBe(want);
  });
});
