import { describe, expect, it } from "vitest";
import { PlaybackManifest } from "../api/manifest.js";
import { CHUNK_SECONDS, chunkSizes } from "../ladder/chunks.js";
import { clusterHealth } from "./liveness.js";
import { buildManifest, pickHolder, rankHolders, signingKid } from "./playback.js";
import type { ClusterHealth, ClusterView, LocateFile, TitleView } from "./snapshot.js";

const T0 = Date.UTC(2026, 10, 1);
const LEASE = 10_000;

describe("pickHolder", () => {
  const live =
    (...names: string[]) =>
    (s: string) =>
      names.includes(s);
  it.each([
    { name: "one holder, live", holders: ["a"], spread: 5, live: live("a"), want: "a" },
    {
      name: "spread picks among live holders",
      holders: ["a", "b", "c"],
      spread: 4,
      live: live("a", "b", "c"),
      want: "b",
    },
    { name: "its holder live: stays on it", holders: ["a", "b", "c"], spread: 4, live: live("b"), want: "b" },
    {
      name: "its holder stale: the live ones share",
      holders: ["a", "b", "c"],
      spread: 3,
      live: live("b", "c"),
      want: "c",
    },
    { name: "its holder stale, spread 0", holders: ["a", "b", "c"], spread: 0, live: live("b", "c"), want: "b" },
    { name: "only holder stale: none", holders: ["a"], spread: 0, live: live("b"), want: undefined },
    { name: "every holder stale: none", holders: ["a", "b"], spread: 1, live: live(), want: undefined },
    { name: "no holder: none", holders: [], spread: 1, live: live("a"), want: undefined },
  ])("$name", ({ holders, spread, live, want }) => expect(pickHolder(holders, spread, live)).toBe(want));

  it("the clients of a stale holder are shared by the live ones; the others stay put", () => {
    const holders = ["a", "b", "c"];
    const all = Array.from({ length: 12 }, (_, s) => pickHolder(holders, s, () => true));
    const without = Array.from({ length: 12 }, (_, s) => pickHolder(holders, s, (h) => h !== "a"));
    const moved = all.flatMap((h, s) => (h === without[s] ? [] : [without[s]]));
    expect(all.filter((h, s) => h !== "a" && h !== without[s])).toEqual([]);
    expect(moved.sort()).toEqual(["b", "b", "c", "c"]);
  });
});

describe("rankHolders", () => {
  const live =
    (...names: string[]) =>
    (s: string) =>
      names.includes(s);
  it.each([
    { name: "one holder", holders: ["a"], spread: 3, live: live("a"), want: ["a"] },
    {
      name: "its own first, then the next in ring order",
      holders: ["a", "b", "c"],
      spread: 1,
      live: live("a", "b", "c"),
      want: ["b", "c", "a"],
    },
    { name: "stale holders left out", holders: ["a", "b", "c"], spread: 0, live: live("a", "c"), want: ["a", "c"] },
    {
      name: "its own stale: pickHolder's choice, then the rest",
      holders: ["a", "b", "c"],
      spread: 1,
      live: live("a", "c"),
      want: ["c", "a"],
    },
    { name: "none live: none", holders: ["a", "b"], spread: 0, live: live(), want: [] },
  ])("$name", ({ holders, spread, live, want }) => expect(rankHolders(holders, spread, live)).toEqual(want));
});

function cluster(name: string, servers: readonly string[], ip: number): ClusterView {
  return {
    name,
    region: "eu-west",
    asn: 64500,
    location: { lat: 48.86, lon: 2.35 },
    servers: servers.map((s, i) => ({ name: s, ipv4: `192.0.${ip}.${i + 1}` })),
    prefixes: [],
  };
}

const A = cluster("isp-a", ["a-1", "a-2", "a-3"], 2);
const B = cluster("ixp-b", ["b-1"], 3);
const title: TitleView = {
  id: "t",
  ladder: [
    {
      kind: "video",
      codec: "av1",
      rungs: [
        { path: "t/on-a1.mp4", bitrateKbps: 900 },
        { path: "t/on-a2.mp4", bitrateKbps: 2400 },
        { path: "t/on-a1-a2.mp4", bitrateKbps: 4500 },
      ],
    },
  ],
};
/** isp-a stores each file on the servers its name says; ixp-b stores everything on b-1. */
const placements = new Map<string, LocateFile>([
  ["isp-a", (p) => (p === "t/on-a1.mp4" ? ["a-1"] : p === "t/on-a2.mp4" ? ["a-2"] : ["a-1", "a-2"])],
  ["ixp-b", () => ["b-1"]],
]);

/** Every server's heartbeat seen at T0 unless `seen` says when (null: never). */
function healths(seen: Readonly<Record<string, number | null | undefined>>): Map<string, ClusterHealth> {
  return new Map(
    [A, B].map((c) => {
      const servers = c.servers.flatMap((s): [string, number][] => {
        const at = seen[s.name] === undefined ? T0 : seen[s.name];
        return at === null || at === undefined ? [] : [[s.name, at + LEASE]];
      });
      return [c.name, clusterHealth({ servers: new Map(servers), load: 0.1 })];
    }),
  );
}

/** The hosts each rung's URLs name, by path, for a client of spread 0 (1080p: holder a-1). */
function hostsByRung(
  seen: Readonly<Record<string, number | null | undefined>>,
  nowMs: number,
): Record<string, string[]> {
  const m = buildManifest({
    title,
    ranked: [A, B].map((cluster) => ({ cluster, load: 0.1 })),
    maxClusters: 2,
    placements,
    linkKeys: new Map([
      ["isp-a", { keys: new Map([["k1", Buffer.alloc(32, 1)]]), primary: "k1" }],
      ["ixp-b", { keys: new Map([["k1", Buffer.alloc(32, 2)]]), primary: "k1" }],
    ]),
    health: healths(seen),
    nowMs,
    clientFamily: 4,
    clientNet: "198.51.100.0/24",
    spread: 0,
    expiresAt: new Date(T0 + 3_600_000),
  });
  const rungs = m?.ladder.flatMap((e) => e.rungs) ?? [];
  return Object.fromEntries(rungs.map((r) => [r.path, r.urls.map((u) => new URL(u).hostname)]));
}

describe("buildManifest names only live servers", () => {
  const [a1, a2, b1] = ["192.0.2.1", "192.0.2.2", "192.0.3.1"];
  it.each([
    {
      name: "all live: a replicated file's other holder in the site before the next site",
      seen: {},
      now: T0,
      want: { "t/on-a1.mp4": [a1, b1], "t/on-a2.mp4": [a2, b1], "t/on-a1-a2.mp4": [a1, a2, b1] },
    },
    {
      name: "a-1 stops renewing, then time alone: its file only from ixp-b, its replica on a-2, a-2's unaffected",
      seen: { "a-1": T0 - 1 },
      now: T0 + LEASE,
      want: { "t/on-a1.mp4": [b1], "t/on-a2.mp4": [a2, b1], "t/on-a1-a2.mp4": [a2, b1] },
    },
    {
      name: "a-1 exactly at its expiry: still named",
      seen: { "a-1": T0 - 1 },
      now: T0 + LEASE - 1,
      want: { "t/on-a1.mp4": [a1, b1], "t/on-a2.mp4": [a2, b1], "t/on-a1-a2.mp4": [a1, a2, b1] },
    },
    {
      name: "a-1 never heard from: not live",
      seen: { "a-1": null },
      now: T0,
      want: { "t/on-a1.mp4": [b1], "t/on-a2.mp4": [a2, b1], "t/on-a1-a2.mp4": [a2, b1] },
    },
    {
      name: "every server's lease passed: nothing offered",
      seen: {},
      now: T0 + LEASE + 1,
      want: {},
    },
    {
      name: "a-1 and b-1 stale: the rung only they hold is dropped",
      seen: { "a-1": T0 - 1, "b-1": T0 - 1 },
      now: T0 + LEASE,
      want: { "t/on-a2.mp4": [a2], "t/on-a1-a2.mp4": [a2] },
    },
  ])("$name", ({ seen, now, want }) => expect(hostsByRung(seen, now)).toEqual(want));
});

describe("signingKid", () => {
  const keys = {
    keys: new Map([
      ["k1", Buffer.alloc(32, 1)],
      ["k2", Buffer.alloc(32, 2)],
      ["k3", Buffer.alloc(32, 3)],
    ]),
    primary: "k3",
  };
  it.each([
    { name: "no server reports its kids (an older agent): the primary", accepted: undefined, want: "k3" },
    { name: "every server holds the primary: the primary", accepted: ["k2", "k3"], want: "k3" },
    {
      name: "a rotation half-way, the primary not everywhere yet: the last kid all hold",
      accepted: ["k1", "k2"],
      want: "k2",
    },
    { name: "a kid steering lacks does not count", accepted: ["k1", "k9"], want: "k1" },
    { name: "no kid in common: the primary, nothing better", accepted: ["k9"], want: "k3" },
    { name: "a server holding no key at all: the primary", accepted: [], want: "k3" },
  ])("$name", ({ accepted, want }) =>
    expect(signingKid(keys, accepted === undefined ? undefined : new Set(accepted))).toBe(want),
  );
});

describe("buildManifest carries each rung's chunk index", () => {
  const chunked: TitleView = {
    id: "t",
    durationSeconds: 10,
    ladder: [{ kind: "video", codec: "av1", rungs: [{ path: "t/on-a1.mp4", bitrateKbps: 900, bytes: 1_125_000 }] }],
  };
  const build = (t: TitleView) =>
    buildManifest({
      title: t,
      ranked: [{ cluster: A, load: 0.1 }],
      maxClusters: 1,
      placements,
      linkKeys: new Map([["isp-a", { keys: new Map([["k1", Buffer.alloc(32, 1)]]), primary: "k1" }]]),
      health: healths({}),
      nowMs: T0,
      clientFamily: 4,
      clientNet: "198.51.100.0/24",
      spread: 0,
      expiresAt: new Date(T0 + 3_600_000),
    });

  it("sizes that cover the file, in a manifest a client accepts; bytes themselves are not offered", () => {
    const m = PlaybackManifest.parse(JSON.parse(JSON.stringify(build(chunked))));
    const rung = m.ladder[0]?.rungs[0];
    expect(m).toMatchObject({ durationSeconds: 10, chunkSeconds: CHUNK_SECONDS });
    expect(rung?.chunkBytes).toEqual(
      chunkSizes({ titleId: "t", path: "t/on-a1.mp4", bytes: 1_125_000, durationSeconds: 10 }),
    );
    expect(rung?.chunkBytes?.reduce((a, b) => a + b, 0)).toBe(1_125_000);
    expect(rung).not.toHaveProperty("bytes");
  });

  it("without the title's duration: no index", () => {
    const m = build({ ...chunked, durationSeconds: undefined });
    expect(m?.ladder[0]?.rungs[0]).not.toHaveProperty("chunkBytes");
    expect(m).not.toHaveProperty("chunkSeconds");
  });
});
