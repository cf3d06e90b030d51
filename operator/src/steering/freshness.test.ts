import { describe, expect, it } from "vitest";
import { expiryAfterOutage, type FleetView, livenessClock } from "./freshness.js";

const view = (leasesDownSinceMs: number | undefined): FleetView => ({
  synced: true,
  waitingFor: [],
  leasesDownSinceMs,
});
const BOUND = 600_000;

describe("livenessClock", () => {
  it.each([
    { name: "watch up → now", down: undefined, now: 50_000, want: { atMs: 50_000 } },
    {
      name: "down → held at the moment it broke",
      down: 10_000,
      now: 50_000,
      want: { atMs: 10_000, stale: { sinceMs: 10_000, held: true } },
    },
    {
      name: "down exactly the bound → still held",
      down: 10_000,
      now: 10_000 + BOUND,
      want: { atMs: 10_000, stale: { sinceMs: 10_000, held: true } },
    },
    {
      name: "down past the bound → now again (fails closed), still stale",
      down: 10_000,
      now: 10_001 + BOUND,
      want: { atMs: 10_001 + BOUND, stale: { sinceMs: 10_000, held: false } },
    },
    {
      name: "down since after now (clock read earlier) → never later than now",
      down: 60_000,
      now: 50_000,
      want: { atMs: 50_000, stale: { sinceMs: 60_000, held: true } },
    },
  ])("$name", ({ down, now, want }) => expect(livenessClock(now, view(down), BOUND)).toEqual(want));

  it("a bound of 0 fails closed at once", () => {
    expect(livenessClock(10_001, view(10_000), 0).atMs).toBe(10_001);
  });
});

describe("expiryAfterOutage", () => {
  const outage = { fromMs: 100_000, toMs: 160_000 };
  it.each([
    { name: "no outage → unchanged", expiry: 120_000, observed: 90_000, o: undefined, want: 120_000 },
    {
      name: "live when it broke, seen before → credited the outage",
      expiry: 120_000,
      observed: 90_000,
      o: outage,
      want: 180_000,
    },
    {
      name: "expiring the very moment it broke → still credited (live at it)",
      expiry: 100_000,
      observed: 70_000,
      o: outage,
      want: 160_000,
    },
    { name: "stale before it broke → never revived", expiry: 99_999, observed: 69_999, o: outage, want: 99_999 },
    { name: "seen after the recovery → its own expiry", expiry: 195_000, observed: 165_000, o: outage, want: 195_000 },
    {
      name: "credit capped at the bound",
      expiry: 120_000,
      observed: 90_000,
      o: { fromMs: 100_000, toMs: 100_000 + 2 * BOUND },
      want: 120_000 + BOUND,
    },
  ])("$name", ({ expiry, observed, o, want }) => expect(expiryAfterOutage(expiry, observed, o, BOUND)).toBe(want));
});
