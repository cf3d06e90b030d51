import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import { balance } from "./assignment.js";
import { keyPosition } from "./hash.js";
import { planHca } from "./hca.js";
import { Ring } from "./ring.js";
import { HCA } from "./stored.js";
import { defaultMix, server } from "./testing/fixtures.js";
import { DEFAULT_DRIFT, driftCatalog, generateCatalog } from "./testing/synthetic-catalog.js";
import { type CatalogFile, PlacementInputError, type Server } from "./types.js";
import { canonicalServers } from "./validate.js";

const clusterArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 })), {
  minLength: 1,
  maxLength: 6,
});

function servers(caps: readonly (readonly [number, number])[]): Server[] {
  return caps.map(([gb, gbps], j) => ({ name: `s${j}`, storageBytes: gb * 1e8, throughputBitsPerSec: gbps * 1e9 }));
}

/** A generated catalog with sizes scaled down 1000× (MB, not GB), so small clusters feel pressure. */
function smallCatalog(alpha: number, seed: number): CatalogFile[] {
  return generateCatalog({ files: 4000, alpha, seed }).files.map((f) => ({ ...f, bytes: Math.ceil(f.bytes / 1000) }));
}

describe("assign", () => {
  it("is deterministic and independent of the order servers are listed in", () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.integer({ min: 0, max: 99 }),
        fc.double({ min: 0.6, max: 1.2, noNaN: true }),
        (caps, seed, alpha) => {
          const list = servers(caps);
          const catalog = smallCatalog(alpha, seed);
          const { plan } = planHca({ cluster: "c", servers: list, catalog });
          const a = assign(plan, catalog, list);
          const b = assign(plan, catalog, [...list].reverse());
          return catalog.every((f) => a.holdersOf(f.key).join() === b.holdersOf(f.key).join());
        },
      ),
      { numRuns: 30 },
    );
  });

  it("never overflows a server, leaves no holes, and puts replicas on distinct servers", () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.integer({ min: 0, max: 99 }),
        fc.double({ min: 0.6, max: 1.4, noNaN: true }),
        (caps, seed, alpha) => {
          const list = servers(caps);
          const catalog = smallCatalog(alpha, seed);
          // The no-hole guarantee needs half the fill headroom to exceed one largest file per server (README).
          const largest = catalog.reduce((x, f) => Math.max(x, f.bytes), 0);
          const total = list.reduce((x, s) => x + s.storageBytes, 0);
          fc.pre(((1 - HCA.fillLimit) / 2) * total >= list.length * largest);
          const { plan } = planHca({ cluster: "c", servers: list, catalog });
          const a = assign(plan, catalog, list);
          const b = balance(a, canonicalServers(list));
          for (let i = 0; i < catalog.length; i++) {
            const h = a.holdersAt(i);
            if (new Set(h).size !== h.length) return false;
          }
          return b.overflowBytes === 0 && b.holeBytes === 0;
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([0.6, 0.8, 1.0, 1.2])("keeps every server within (1 + ε) of its throughput share, α = %s", (alpha) => {
    const list = defaultMix();
    const catalog = generateCatalog({ files: 30_000, alpha, seed: 11 }).files;
    const { plan } = planHca({ cluster: "c", servers: list, catalog });
    const b = balance(assign(plan, catalog, list), canonicalServers(list));
    // Token rounding adds well under 1% on top of the load bound.
    expect(b.peakToMean).toBeLessThanOrEqual((1 + HCA.loadBound) * 1.01);
    expect(b.overflowBytes).toBe(0);
    expect(b.holeBytes).toBe(0);
  });

  it("sheds head files, not tail files, when drift takes a server over its cap", () => {
    const list = canonicalServers(defaultMix());
    const names = list.map((s) => s.name);
    let synthetic = generateCatalog({ files: 30_000, alpha: 1.2, seed: 11 });
    let plan = planHca({ cluster: "c", servers: list, catalog: synthetic.files }).plan;
    let headSpills = 0;
    let tailSpills = 0;
    for (let d = 1; d <= 3; d++) {
      synthetic = driftCatalog(synthetic, d, { ...DEFAULT_DRIFT, seed: 5 });
      plan = planHca({ cluster: "c", servers: list, catalog: synthetic.files, previous: plan }).plan;
      const catalog = synthetic.files;
      const a = assign(plan, catalog, list);
      expect(balance(a, list).peakToMean).toBeLessThanOrEqual((1 + HCA.loadBound) * 1.01);
      const rings = [plan.servers.map((s) => s.headTokens), plan.servers.map((s) => s.tailTokens)].map((t) =>
        Ring.build(names, t),
      );
      for (let i = 0; i < a.stored; i++) {
        const h = a.holdersAt(i);
        const tail = i >= plan.cutoff;
        const ring = rings[tail ? 1 : 0] as Ring;
        if (h.length === 1 && h[0] !== ring.owner(ring.slot(keyPosition(catalog[i]?.key ?? "")))) {
          if (tail) tailSpills++;
          else headSpills++;
        }
      }
    }
    // Kept token counts leave a server's traffic up to the keep band off its share: the caps bind,
    // and only on the head, where a spill moves few bytes.
    expect(headSpills).toBeGreaterThan(0);
    expect(tailSpills).toBe(0);
  });

  it("answers the playback lookup and the edge agent's list consistently", () => {
    const list = Array.from({ length: 8 }, (_, j) => server(`s${j}`, 2, 10));
    const catalog = generateCatalog({ files: 2000, alpha: 1.2, seed: 2 }).files;
    const { plan } = planHca({ cluster: "c", servers: list, catalog });
    const a = assign(plan, catalog, list);
    const hot = catalog.findIndex((_, i) => a.holdersAt(i).length > 1);
    expect(hot).toBeGreaterThanOrEqual(0);
    expect(a.holdersOf(catalog[hot]?.key ?? "").length).toBe(a.holdersAt(hot).length);
    expect(a.holdersOf("no/such/file")).toEqual([]);
    for (const name of a.servers) {
      for (const key of a.filesOf(name)) expect(a.holdersOf(key)).toContain(name);
    }
  });

  it.each([
    {
      name: "a server the plan does not know",
      run: (p: Parameters<typeof assign>[0], cat: Parameters<typeof assign>[1]) =>
        assign(p, cat, [server("a", 1, 1), server("b", 1, 1), server("x", 1, 1)]),
      msg: /plan\.servers: no tokens for server "x"/,
    },
    {
      name: "a plan server without capacities",
      run: (p: Parameters<typeof assign>[0], cat: Parameters<typeof assign>[1]) => assign(p, cat, [server("a", 1, 1)]),
      msg: /servers: plan\.servers names "b"/,
    },
    {
      name: "a duplicate key",
      run: (p: Parameters<typeof assign>[0], cat: Parameters<typeof assign>[1]) =>
        assign(p, [...cat, { key: cat[0]?.key ?? "", bytes: 1, demand: 0 }], [server("a", 1, 1), server("b", 1, 1)]),
      msg: /keys must be unique/,
    },
    {
      name: "a negative token count",
      run: (p: Parameters<typeof assign>[0], cat: Parameters<typeof assign>[1]) =>
        assign({ ...p, servers: [{ name: "a", headTokens: -1, tailTokens: 1 }, ...p.servers.slice(1)] }, cat, [
          server("a", 1, 1),
          server("b", 1, 1),
        ]),
      msg: /headTokens/,
    },
  ])("rejects $name", ({ run, msg }) => {
    const list = [server("a", 1, 1), server("b", 1, 1)];
    const catalog = generateCatalog({ files: 50, alpha: 1, seed: 1 }).files;
    const { plan } = planHca({ cluster: "c", servers: list, catalog });
    expect(() => run(plan, catalog)).toThrow(PlacementInputError);
    expect(() => run(plan, catalog)).toThrow(msg);
  });
});
