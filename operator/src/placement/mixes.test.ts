/**
 * Properties of HCA on random fleet mixes (issue 15): 2–4 server classes of unlike storage and
 * throughput, small catalogs so that a run stays fast. They assert behaviour; bench:placement --mixes
 * measures the figures, churn included: on 1,500 files a join is too coarse for a churn bound (a
 * homogeneous 8 → 9 join fetched 3.1× the joiner's bytes, 4.1× with two storage sizes).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import type { Assignment } from "./assignment.js";
import { balance } from "./assignment.js";
import { planHca } from "./hca.js";
import { server } from "./testing/fixtures.js";
import { generateCatalog } from "./testing/synthetic-catalog.js";
import type { CatalogFile, Server } from "./types.js";
import { canonicalServers } from "./validate.js";

type Mix = { servers: Server[]; catalog: readonly CatalogFile[] };
type MixSpec = { classes: { tb: number; gbps: number; count: number }[]; files: number; alpha: number; seed: number };

/** 2–4 classes (storage 1–100 TB, 10–400 Gbps), 4–24 servers, 1,500–3,000 files at α 0.6–1.2. */
const mixes = fc.record({
  classes: fc.array(
    fc.record({
      tb: fc.double({ min: 1, max: 100, noNaN: true }),
      gbps: fc.integer({ min: 10, max: 400 }),
      count: fc.integer({ min: 1, max: 6 }),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  files: fc.integer({ min: 1500, max: 3000 }),
  alpha: fc.double({ min: 0.6, max: 1.2, noNaN: true }),
  seed: fc.integer({ min: 1, max: 10_000 }),
});
/** The spec is what fast-check prints for a counterexample; the catalog is built from it. */
function build({ classes, files, alpha, seed }: MixSpec): Mix {
  const servers = classes.flatMap((c, k) =>
    Array.from({ length: c.count }, (_, i) => server(`c${k}-${String(i).padStart(2, "0")}`, c.tb, c.gbps)),
  );
  return { servers, catalog: generateCatalog({ files, alpha, seed }).files };
}

/** Each file's holders by name, in catalog order. */
function holders(a: Assignment): string[][] {
  return a.catalog.map((_, i) => Array.from(a.holdersAt(i), (j) => a.servers[j] ?? ""));
}

/** Seeded, so that a failure replays. */
const RUNS = { numRuns: 25, seed: 15 };

describe("HCA on random fleet mixes", () => {
  it("gives every server a traffic share in [0, 1] summing to 1, and shares ≥ 0", () => {
    fc.assert(
      fc.property(mixes, (spec) => {
        const { servers, catalog } = build(spec);
        const { expectations } = planHca({ cluster: "c", servers, catalog });
        let sum = 0;
        for (const e of expectations.servers) {
          expect(e.headShare).toBeGreaterThanOrEqual(0);
          expect(e.tailShare).toBeGreaterThanOrEqual(0);
          expect(e.trafficShare).toBeGreaterThanOrEqual(0);
          expect(e.trafficShare).toBeLessThanOrEqual(1 + 1e-9);
          sum += e.trafficShare;
        }
        expect(sum).toBeCloseTo(1, 6);
      }),
      RUNS,
    );
  });

  it("gives one server all the traffic, whatever its few files (ties, zero demand, too big)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5e12 }), fc.constantFrom(0, 0.5, 1, 2, 3)), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.double({ min: 1, max: 20, noNaN: true }),
        (files, tb) => {
          const catalog = [...files]
            .sort((a, b) => b[1] - a[1])
            .map(([bytes, demand], i) => ({ key: `title/f${i}`, bytes, demand }));
          const servers = [server("only", tb, 100)];
          const { plan, expectations } = planHca({ cluster: "c", servers, catalog });
          for (const e of expectations.servers) {
            expect(e.trafficShare).toBeLessThanOrEqual(1 + 1e-9);
            expect(e.trafficShare).toBeGreaterThanOrEqual(0);
          }
          const a = assign(plan, catalog, servers);
          expect(a.bytes[0] ?? 0).toBeLessThanOrEqual(servers[0]?.storageBytes ?? 0);
        },
      ),
      { numRuns: 200, seed: 15 },
    );
  });

  it("is deterministic: the same plan and assignment whatever the server order or earlier calls", () => {
    fc.assert(
      fc.property(mixes, fc.integer({ min: 1, max: 1000 }), (spec, shuffle) => {
        const { servers, catalog } = build(spec);
        const first = planHca({ cluster: "c", servers, catalog });
        // Another plan in between (other catalog, other servers): no state may leak from one call to the next.
        planHca({ cluster: "x", servers: servers.slice(1), catalog: catalog.slice(0, 1000) });
        const order = [...servers].sort(
          (a, b) => ((a.name.charCodeAt(1) * shuffle) % 7) - ((b.name.charCodeAt(1) * shuffle) % 7),
        );
        const again = planHca({ cluster: "c", servers: order, catalog: [...catalog] });
        expect(again.plan).toEqual(first.plan);
        expect(holders(assign(again.plan, [...catalog], order))).toEqual(holders(assign(first.plan, catalog, servers)));
      }),
      { numRuns: 10, seed: 15 },
    );
  });

  it("never overflows a server and puts replicas on distinct servers", () => {
    fc.assert(
      fc.property(mixes, (spec) => {
        const { servers, catalog } = build(spec);
        const { plan } = planHca({ cluster: "c", servers, catalog });
        const a = assign(plan, catalog, servers);
        expect(balance(a, canonicalServers(servers)).overflowBytes).toBe(0);
        for (let i = 0; i < a.stored; i++) {
          const h = a.holdersAt(i);
          expect(new Set(h).size).toBe(h.length);
        }
        // No peak/mean bound here: on a few thousand files a hot piece larger than the traffic room left
        // lands on the server with the most room, over its cap (6 servers, 1,500 files at α 1.13: 1.066
        // against (1 + ε) = 1.04). The 1.05 goal is measured at 200k files by bench:placement --mixes.
      }),
      RUNS,
    );
  });
});
