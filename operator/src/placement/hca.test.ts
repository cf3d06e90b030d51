import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import { balance } from "./assignment.js";
import { planHca } from "./hca.js";
import { fileTraffic, HCA, storedSet } from "./stored.js";
import { defaultMix, ranked, server } from "./testing/fixtures.js";
import { generateCatalog } from "./testing/synthetic-catalog.js";
import { type CatalogFile, InfeasiblePlacementError, PlacementInputError, type Plan, type Server } from "./types.js";
import { canonicalServers } from "./validate.js";

/** Tokens of servers in both plans that changed, as a fraction of the first plan's. */
function tokensMoved(a: Plan, b: Plan): number {
  const before = new Map(a.servers.map((s) => [s.name, s]));
  let moved = 0;
  let total = 0;
  for (const s of b.servers) {
    const p = before.get(s.name);
    if (!p) continue;
    moved += Math.abs(s.headTokens - p.headTokens) + Math.abs(s.tailTokens - p.tailTokens);
    total += p.headTokens + p.tailTokens;
  }
  return moved / total;
}

function headTail(catalog: readonly CatalogFile[], servers: readonly Server[], cutoff: number) {
  const set = storedSet(catalog, servers);
  let BH = 0;
  let RH = 0;
  for (let i = 0; i < Math.min(cutoff, set.count); i++) {
    BH += catalog[i]?.bytes ?? 0;
    RH += fileTraffic(catalog[i] as CatalogFile);
  }
  return { BH, RH, BT: set.bytes - BH, RT: set.traffic - RH };
}

describe("planHca", () => {
  it.each([0.6, 0.8, 1.0, 1.2])("finds a feasible D* that balances traffic on the default mix, α = %s", (alpha) => {
    const servers = defaultMix();
    const catalog = generateCatalog({ files: 20_000, alpha, seed: 7 }).files;
    const { plan, expectations } = planHca({ cluster: "c", servers, catalog });
    expect(expectations.feasible).toBe(true);
    expect(plan.cutoff).toBeGreaterThan(0);
    const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
    for (const e of expectations.servers) {
      const s = servers.find((x) => x.name === e.name) as Server;
      expect(e.headShare).toBeGreaterThanOrEqual(0);
      expect(e.tailShare).toBeGreaterThanOrEqual(0);
      expect(e.trafficShare).toBeCloseTo(s.throughputBitsPerSec / throughput, 9);
      expect(e.expectedUse).toBeLessThanOrEqual(HCA.fillLimit + 1e-9);
    }
  });

  it("stores proportionally to storage when servers are alike", () => {
    const servers = [server("a", 10, 10), server("b", 10, 10), server("c", 10, 10)];
    const catalog = ranked(Array.from({ length: 300 }, (_, i) => [1e9, 1 / (i + 1)] as const));
    const { expectations } = planHca({ cluster: "c", servers, catalog });
    for (const e of expectations.servers) expect(e.expectedBytes).toBeCloseTo(expectations.storedBytes / 3, -3);
  });

  it("D* is feasible: for random clusters and catalogs, weights are ≥ 0 and satisfy both equations", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 100 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.double({ min: 0.5, max: 1.4, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (caps, alpha, seed) => {
          const servers = caps.map(([tb, gbps], j) => server(`s${j}`, tb, gbps));
          const catalog = generateCatalog({ files: 2000, alpha, seed }).files;
          const { plan, expectations } = planHca({ cluster: "c", servers, catalog });
          const { BH, RH, BT, RT } = headTail(catalog, servers, plan.cutoff);
          const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
          // Feasible: traffic exactly τ_j; otherwise at most λ·τ_j, λ > 1 the least bound.
          const lambda = expectations.trafficBound;
          if (expectations.feasible !== (lambda === 1)) return false;
          return expectations.servers.every((e) => {
            const s = servers.find((x) => x.name === e.name) as Server;
            const bytes = e.headShare * BH + e.tailShare * BT;
            const traffic = (e.headShare * RH + e.tailShare * RT) / (RH + RT);
            const tau = s.throughputBitsPerSec / throughput;
            return (
              e.headShare >= 0 &&
              e.tailShare >= 0 &&
              bytes <= HCA.fillLimit * s.storageBytes * (1 + 1e-9) &&
              (expectations.feasible ? Math.abs(traffic - tau) < 1e-9 : traffic <= lambda * tau * (1 + 1e-9))
            );
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps the previous cutoff and token counts when nothing changed (hysteresis)", () => {
    const servers = defaultMix();
    const day0 = generateCatalog({ files: 50_000, alpha: 1, seed: 3 }).files;
    const first = planHca({ cluster: "c", servers, catalog: day0 });
    const again = planHca({ cluster: "c", servers, catalog: day0, previous: first.plan });
    expect(again.plan.cutoff).toBe(first.plan.cutoff);
    expect(tokensMoved(first.plan, again.plan)).toBeLessThan(0.005);
  });

  it("adding a server adds its own tokens and keeps the others' counts", () => {
    const servers = defaultMix();
    const catalog = generateCatalog({ files: 50_000, alpha: 1, seed: 3 }).files;
    const first = planHca({ cluster: "c", servers, catalog });
    const grown = planHca({
      cluster: "c",
      servers: [...servers, server("flash-new", 18, 100)],
      catalog,
      previous: first.plan,
    });
    expect(grown.plan.cutoff).toBe(first.plan.cutoff);
    expect(tokensMoved(first.plan, grown.plan)).toBeLessThan(0.005);
    const added = grown.plan.servers.find((s) => s.name === "flash-new");
    expect(added?.headTokens).toBeGreaterThan(0);
  });

  it("calibrates tokens so that bare-ring traffic matches each server's throughput share", () => {
    const servers = defaultMix();
    const catalog = generateCatalog({ files: 100_000, alpha: 0.9, seed: 5 }).files;
    const { plan } = planHca({ cluster: "c", servers, catalog });
    const a = assign(plan, catalog, servers);
    const b = balance(a, canonicalServers(servers));
    // The bounded-load pass caps at 1 + ε; calibration keeps every server well inside it.
    expect(b.peakToMean).toBeLessThan(1 + HCA.loadBound / 2);
  });

  it("bounds the re-calibration of kept servers by the night's fill budget", () => {
    const servers = defaultMix();
    const catalog = generateCatalog({ files: 50_000, alpha: 1, seed: 3 }).files;
    const first = planHca({ cluster: "c", servers, catalog });
    // Halve every flash server's throughput: all of them leave the keep band at once.
    const slower = servers.map((s) => (s.name.startsWith("flash") ? { ...s, throughputBitsPerSec: 50e9 } : s));
    const tight = planHca({ cluster: "c", servers: slower, catalog, previous: first.plan, fillBudgetBytes: 1e9 });
    const free = planHca({ cluster: "c", servers: slower, catalog, previous: first.plan });
    expect(tokensMoved(first.plan, tight.plan)).toBeLessThan(tokensMoved(first.plan, free.plan));
  });

  it.each([
    { name: "empty cluster name", patch: { cluster: "" }, err: PlacementInputError, msg: /cluster/ },
    { name: "no servers", patch: { servers: [] }, err: PlacementInputError, msg: /servers/ },
    {
      name: "zero storage",
      patch: { servers: [server("a", 0, 10)] },
      err: PlacementInputError,
      msg: /storageBytes/,
    },
    {
      name: "duplicate server",
      patch: { servers: [server("a", 1, 1), server("a", 1, 1)] },
      err: PlacementInputError,
      msg: /twice/,
    },
    { name: "negative cutoff", patch: { cutoff: -1 }, err: PlacementInputError, msg: /cutoff/ },
    { name: "hysteresis above 1", patch: { hysteresis: 2 }, err: PlacementInputError, msg: /hysteresis/ },
    { name: "a zero fill budget", patch: { fillBudgetBytes: 0 }, err: PlacementInputError, msg: /fillBudgetBytes/ },
    {
      name: "unranked catalog",
      patch: {
        catalog: [
          { key: "a", bytes: 1, demand: 1 },
          { key: "b", bytes: 1, demand: 2 },
        ],
      },
      err: PlacementInputError,
      msg: /catalog\[1\]\.demand: the catalog must be ranked/,
    },
    {
      name: "a duplicate key",
      patch: {
        catalog: [
          { key: "a", bytes: 1, demand: 2 },
          { key: "b", bytes: 1, demand: 1 },
          { key: "a", bytes: 1, demand: 1 },
        ],
      },
      err: PlacementInputError,
      msg: /catalog\[2\]\.key: "a" repeats catalog\[0\]\.key/,
    },
    {
      name: "fractional bytes",
      patch: { catalog: [{ key: "a", bytes: 1.5, demand: 1 }] },
      err: PlacementInputError,
      msg: /catalog\[0\]\.bytes/,
    },
    {
      name: "an infeasible fixed cutoff",
      patch: { servers: [server("a", 10, 1), server("b", 10, 100)], cutoff: 10 },
      err: InfeasiblePlacementError,
      msg: /cutoff: 10 is infeasible/,
    },
  ])("rejects $name", ({ patch, err, msg }) => {
    // Every file has the same demand, so no cutoff separates dense from sparse: mixed servers are infeasible.
    const catalog = ranked(Array.from({ length: 50 }, () => [1e9, 1] as const));
    const input = { cluster: "c", servers: [server("a", 10, 10), server("b", 10, 20)], catalog, ...patch };
    expect(() => planHca(input)).toThrow(err);
    expect(() => planHca(input)).toThrow(msg);
  });
});
