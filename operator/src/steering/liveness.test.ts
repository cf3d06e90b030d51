import { describe, expect, it } from "vitest";
import { clusterHealth, isServerLive } from "./liveness.js";

const T0 = Date.UTC(2026, 10, 1);
/** Each heartbeat below was seen at T0 - LEASE + its offset: live until T0 + offset. */
const LEASE = 10_000;

/** Health from each server's expiry; a server left out has no heartbeat. */
const health = (expiries: Readonly<Record<string, number | undefined>>) =>
  clusterHealth({
    servers: new Map(
      Object.entries(expiries).flatMap(([s, e]): [string, number][] => (e === undefined ? [] : [[s, e]])),
    ),
    load: 0.2,
  });

describe("clusterHealth", () => {
  it.each([
    { name: "the latest server's expiry", expiries: { "a-1": T0, "a-2": T0 + 5 }, want: T0 + 5 },
    { name: "no heartbeat at all: never live", expiries: {}, want: Number.NEGATIVE_INFINITY },
  ])("$name", ({ expiries, want }) => expect(health(expiries).expiresAtMs).toBe(want));
});

describe("isServerLive", () => {
  const h = health({ "a-1": T0 });
  it.each([
    { name: "before its expiry", server: "a-1", now: T0 - LEASE, want: true },
    { name: "exactly at its expiry", server: "a-1", now: T0, want: true },
    { name: "past its expiry, by time alone", server: "a-1", now: T0 + 1, want: false },
    { name: "no heartbeat yet", server: "a-2", now: T0 - LEASE, want: false },
  ])("$name → $want", ({ server, now, want }) => expect(isServerLive(h, server, now)).toBe(want));

  it("a cluster without health has no live server", () => expect(isServerLive(undefined, "a-1", T0)).toBe(false));
});
