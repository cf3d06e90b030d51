import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import { balance } from "./assignment.js";
import { leastBound, prefixSums, widestTail } from "./bound.js";
import { planHca } from "./hca.js";
import { HCA, storedSet } from "./stored.js";
import { server } from "./testing/fixtures.js";
import { generateCatalog } from "./testing/synthetic-catalog.js";
import { canonicalServers } from "./validate.js";

/** A tenth of the default mix: 2 storage servers of 200 TB / 40 Gbps and 8 flash of 18 TB / 100 Gbps. */
function smallMix() {
  return canonicalServers([
    server("storage-0", 200, 40),
    server("storage-1", 200, 40),
    ...Array.from({ length: 8 }, (_, j) => server(`flash-${j}`, 18, 100)),
  ]);
}

function inputs(files: number, alpha: number) {
  const servers = smallMix();
  const catalog = generateCatalog({ files, alpha, seed: 7 }).files;
  const set = storedSet(catalog, servers);
  const throughput = servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  return {
    servers,
    catalog,
    p: prefixSums(catalog, set.count),
    storage: Float64Array.from(servers, (s) => s.storageBytes),
    tau: Float64Array.from(servers, (s) => s.throughputBitsPerSec / throughput),
  };
}

const sum = (xs: Float64Array) => xs.reduce((x, y) => x + Math.max(0, y), 0);

describe("traffic bound", () => {
  it("is 1 at a cutoff that balances traffic", () => {
    const { servers, catalog, p, storage, tau } = inputs(5_000, 1);
    const { plan, expectations } = planHca({ cluster: "c", servers, catalog });
    expect(expectations.feasible).toBe(true);
    expect(leastBound(plan.cutoff, p, storage, tau)).toBe(1);
  });

  it("is the least λ when the flash servers cannot hold enough hot bytes, and assign keeps to it", () => {
    // 100k files at α = 0.6 fill 37 % of it, as 1M files do the default mix: no cutoff is feasible.
    const { servers, catalog, p, storage, tau } = inputs(100_000, 0.6);
    const { plan, expectations } = planHca({ cluster: "c", servers, catalog });
    expect(expectations.feasible).toBe(false);
    const lambda = expectations.trafficBound;
    expect(lambda).toBeGreaterThan(1);
    expect(leastBound(plan.cutoff, p, storage, tau)).toBe(lambda);
    // Just below λ no shares exist at this cutoff; nor at any other cutoff does a smaller λ.
    expect(sum(widestTail(plan.cutoff, lambda, p, storage, tau).tail)).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(sum(widestTail(plan.cutoff, lambda * 0.999, p, storage, tau).tail)).toBeLessThan(1);
    for (const D of [0, 10_000, 50_000, 60_000, 70_000, p.bytes.length - 2]) {
      expect(leastBound(D, p, storage, tau)).toBeGreaterThanOrEqual(lambda * (1 - 1e-6));
    }
    const b = balance(assign(plan, catalog, servers), servers);
    expect(b.peakToMean).toBeLessThanOrEqual((1 + HCA.loadBound) * lambda * 1.01);
    expect(b.overflowBytes).toBe(0);
    expect(b.holeBytes).toBe(0);
  });
});
