/** Steering's feed against fake informers: which change refreshes which part of the store. */
import pino from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { heartbeatLease, Kinds } from "../api/index.js";
import { sample } from "../api/testdata/samples.js";
import type { CacheSet } from "../runtime/caches.js";
import type { WatchHealth } from "../runtime/informer.js";
import { at, fakeCaches } from "../runtime/testing.js";
import { SteeringFeed } from "./feed.js";
import type { LinkKeyring } from "./link-keys.js";
import { deriveLinkKey } from "./sign-url.js";
import { SteeringStore } from "./store.js";

const ams = sample("OCACluster", "ams-polder-1");
const title = sample("Title", "night-harbor");
const beat = (server: string, bytesPerSec: number) =>
  heartbeatLease({
    namespace: "ns",
    cluster: "ams-polder-1",
    server,
    load: { connections: 1, bytesPerSec, diskUsedBytes: 1, diskTotalBytes: 2, ktls: "active" },
    now: new Date("2026-11-26T12:00:00Z"),
    leaseDurationSeconds: 30,
  });
const settle = () => new Promise((r) => setTimeout(r, 5));
const M1 = Buffer.from("master-1-0123456789abcdefghijklmnopq");
const M2 = Buffer.from("master-2-0123456789abcdefghijklmnopq");
/** The master keys as a test sets them, and who listens for their change. */
let masters: LinkKeyring = { keys: new Map([["k1", M1]]), primary: "k1" };
let keyListeners: (() => void)[] = [];
const masterKeys = { current: () => masters, onChange: (fn: () => void) => void keyListeners.push(fn) };

let caches: CacheSet;
let store: SteeringStore;
/** The fake clock the caches stamp arrivals with. */
let clock = 0;
beforeEach(() => {
  clock = 0;
  masters = { keys: new Map([["k1", M1]]), primary: "k1" };
  keyListeners = [];
  caches = fakeCaches(() => clock);
  store = new SteeringStore();
  new SteeringFeed(
    store,
    {
      clusters: caches.of(Kinds.OCACluster),
      titles: caches.of(Kinds.Title),
      popularities: caches.of(Kinds.Popularity),
      placements: caches.of(Kinds.Placement),
      leases: caches.of(Kinds.Lease),
    },
    { linkKeys: masterKeys, log: pino({ level: "silent" }), coalesceMs: 1, now: () => clock },
  );
});

describe("SteeringFeed", () => {
  it("a cluster's change rebuilds the prefix tables and its link keys, derived for it from the masters", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    await settle();
    expect(store.state.index.clusters.map((c) => c.name)).toEqual(["ams-polder-1"]);
    const keys = store.state.linkKeys.get("ams-polder-1");
    expect(keys?.primary).toBe("k1");
    expect(keys?.keys.get("k1")?.equals(deriveLinkKey(M1, "ns", "ams-polder-1"))).toBe(true);
  });

  it("a change of the master keys re-derives every cluster's, without any object changing", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    await settle();
    masters = {
      keys: new Map([
        ["k1", M1],
        ["k2", M2],
      ]),
      primary: "k2",
    };
    for (const fn of keyListeners) fn();
    await settle();
    const keys = store.state.linkKeys.get("ams-polder-1");
    expect([keys?.primary, [...(keys?.keys.keys() ?? [])]]).toEqual(["k2", ["k1", "k2"]]);
    expect(keys?.keys.get("k2")?.equals(deriveLinkKey(M2, "ns", "ams-polder-1"))).toBe(true);
  });

  it("heartbeats say which kids each cluster's live servers hold: those all of them hold", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    const withKids = (server: string, kids: string[] | undefined) => {
      const l = beat(server, 1e9);
      if (kids !== undefined) l.metadata.annotations["cdn.edgefleet.dev/link-kids"] = kids.join(",");
      return l;
    };
    caches.of(Kinds.Lease).upsert(at(withKids("s01", ["k1", "k2"]), "ns", "2", 0));
    caches.of(Kinds.Lease).upsert(at(withKids("s02", ["k1"]), "ns", "3", 0));
    caches.of(Kinds.Lease).upsert(at(withKids("s03", undefined), "ns", "4", 0)); // an agent that does not say
    await settle();
    expect([...(store.state.health.get("ams-polder-1")?.linkKids ?? [])]).toEqual(["k1"]);
    caches.of(Kinds.Lease).upsert(at(withKids("s02", ["k1", "k2"]), "ns", "5", 0));
    await settle();
    expect([...(store.state.health.get("ams-polder-1")?.linkKids ?? [])].sort()).toEqual(["k1", "k2"]);
  });

  it("a Title's change republishes the ladders", async () => {
    caches.of(Kinds.Title).upsert(at(title, "ns", "1", 1));
    await settle();
    expect([...store.state.titles.keys()]).toEqual([(title.spec as { id: string }).id]);
  });

  it("heartbeats make each server's expiry (by when they were seen) and the cluster's load, summed over its servers", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    caches.of(Kinds.Lease).upsert(at(beat("s01", 1e9), "ns", "2", 0));
    clock = 5_000;
    caches.of(Kinds.Lease).upsert(at(beat("s02", 1e9), "ns", "3", 0));
    await settle();
    const h = store.state.health.get("ams-polder-1");
    expect(h?.load).toBeGreaterThan(0);
    // Seen at 0 and 5 s by the fake clock, 30 s leases: not the Leases' renewTime. Servers without a Lease are absent.
    expect([...(h?.servers ?? [])]).toEqual([
      ["s01", 30_000],
      ["s02", 35_000],
    ]);
    expect(h?.expiresAtMs).toBe(35_000);
  });

  it("a renewal moves only its own server's expiry, and keeps the generation (manifest caches stay)", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    caches.of(Kinds.Lease).upsert(at(beat("s01", 1e9), "ns", "2", 0));
    caches.of(Kinds.Lease).upsert(at(beat("s02", 1e9), "ns", "3", 0));
    await settle();
    const generation = store.state.generation;
    clock = 10_000;
    caches.of(Kinds.Lease).upsert(at(beat("s02", 1e9), "ns", "4", 0));
    await settle();
    expect(Object.fromEntries(store.state.health.get("ams-polder-1")?.servers ?? [])).toEqual({
      s01: 30_000,
      s02: 40_000,
    });
    expect(store.state.generation).toBe(generation);
  });

  it("a Lease of a server that is not in the cluster's spec keeps nothing live", async () => {
    caches.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    caches.of(Kinds.Lease).upsert(at(beat("gone-7", 1e9), "ns", "2", 0));
    await settle();
    const h = store.state.health.get("ams-polder-1");
    expect(h?.servers.size).toBe(0);
    expect(h?.expiresAtMs).toBe(Number.NEGATIVE_INFINITY);
  });

  it("a burst of changes is one refresh", async () => {
    for (let i = 0; i < 20; i++) caches.of(Kinds.Title).upsert(at(title, "ns", String(10 + i), 1));
    const before = store.state.generation;
    await settle();
    expect(store.state.generation - before).toBe(1); // one setTitles, not twenty
  });

  it("after an outage of the Lease watch, a server live when it broke is not charged for it; one seen since, or stale before, is", async () => {
    const handlers: ((h: WatchHealth) => void)[] = [];
    const health = (downSinceMs: number | undefined): WatchHealth => ({
      kind: "leases",
      synced: true,
      downSinceMs,
      error: undefined,
    });
    const own = fakeCaches(() => clock);
    const st = new SteeringStore();
    new SteeringFeed(
      st,
      {
        clusters: own.of(Kinds.OCACluster),
        titles: own.of(Kinds.Title),
        popularities: own.of(Kinds.Popularity),
        placements: own.of(Kinds.Placement),
        leases: own.of(Kinds.Lease),
        watches: { onHealth: (fn) => handlers.push(fn) },
      },
      {
        linkKeys: masterKeys,
        log: pino({ level: "silent" }),
        coalesceMs: 1,
        maxOutageCreditMs: 600_000,
        now: () => clock,
      },
    );
    const fire = (h: WatchHealth) => {
      for (const fn of handlers) fn(h);
    };
    own.of(Kinds.OCACluster).upsert(at(ams, "ns", "1", 1));
    own.of(Kinds.Lease).upsert(at(beat("s01", 1e9), "ns", "2", 0)); // seen at 0: expires at 30 s
    clock = 50_000;
    own.of(Kinds.Lease).upsert(at(beat("s02", 1e9), "ns", "3", 0)); // seen at 50 s: expires at 80 s
    await settle();
    fire(health(60_000)); // down at 60 s: s01 stale already, s02 live
    clock = 120_000;
    own.of(Kinds.Lease).upsert(at(beat("s03", 1e9), "ns", "4", 0)); // renewed in the outage, seen on the relist
    fire(health(undefined)); // back at 120 s: the health is recomputed in the same turn
    expect(Object.fromEntries(st.state.health.get("ams-polder-1")?.servers ?? [])).toEqual({
      s01: 30_000,
      s02: 140_000, // 80 s + the 60 s outage: 20 s left, as when it broke
      s03: 150_000,
    });
  });
});
