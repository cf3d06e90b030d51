import { describe, expect, it } from "vitest";
import { clusterHealth, isServerLive, liveSetKey } from "./liveness.js";
import type { ClusterView } from "./snapshot.js";

const T0 = Date.UTC(2026, 10, 1);
/** Each heartbeat below was seen at T0 - LEASE + its offset: live until T0 + offset. */
const LEASE = 10_000;

function cluster(servers: readonly string[]): ClusterView {
  return {
    name: "isp-a",
    region: "eu-west",
    asn: 64500,
    location: { lat: 48.86, lon: 2.35 },
    servers: servers.map((name, i) => ({ name, ipv4: `192.0.2.${i + 1}` })),
    prefixes: [],
  };
}

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

describe("liveSetKey", () => {
  const view = cluster(["a-1", "a-2", "a-3"]);
  it.each([
    { name: "all live", expiries: { "a-1": T0, "a-2": T0 + 1, "a-3": T0 + 2 }, now: T0, want: "" },
    { name: "one stale", expiries: { "a-1": T0 + 2, "a-2": T0 - 1, "a-3": T0 + 1 }, now: T0, want: "!1" },
    {
      name: "two stale, in view order",
      expiries: { "a-1": T0 - 1, "a-2": T0 + 1, "a-3": T0 - 2 },
      now: T0,
      want: "!0,2",
    },
    { name: "no heartbeat yet counts as stale", expiries: { "a-1": T0, "a-3": T0 }, now: T0, want: "!1" },
    { name: "all stale", expiries: { "a-1": T0 - 1, "a-2": T0 - 1, "a-3": T0 - 1 }, now: T0, want: "!0,1,2" },
  ])("$name → '$want'", ({ expiries, now, want }) => expect(liveSetKey(view, health(expiries), now)).toBe(want));

  it("without health every server is not live", () => expect(liveSetKey(view, undefined, T0)).toBe("!0,1,2"));

  it("moves with time alone, on one health object", () => {
    const h = health({ "a-1": T0, "a-2": T0 + LEASE, "a-3": T0 + LEASE });
    expect([T0, T0 + 1, T0 + LEASE, T0 + LEASE + 1].map((now) => liveSetKey(view, h, now))).toEqual([
      "",
      "!0",
      "!0",
      "!0,1,2",
    ]);
  });

  it("a renewal of a live server changes no key; a stale one's renewal restores the all-live key", () => {
    const now = T0 + 1;
    const before = liveSetKey(view, health({ "a-1": T0, "a-2": T0 + 5, "a-3": T0 + 5 }), now);
    const renewedLive = liveSetKey(view, health({ "a-1": T0, "a-2": T0 + LEASE, "a-3": T0 + 5 }), now);
    const renewedStale = liveSetKey(view, health({ "a-1": now + LEASE, "a-2": T0 + 5, "a-3": T0 + 5 }), now);
    expect([before, renewedLive, renewedStale]).toEqual(["!0", "!0", ""]);
  });

  it("is computed for the view it is asked with", () => {
    const h = health({ "a-1": T0, "a-2": T0 - 1 });
    expect(liveSetKey(cluster(["a-1", "a-2"]), h, T0)).toBe("!1");
    expect(liveSetKey(cluster(["a-2", "a-1"]), h, T0)).toBe("!0");
  });
});
