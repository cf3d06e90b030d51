import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import { planHca } from "./hca.js";
import { ringNeighbours } from "./neighbours.js";
import { defaultMix } from "./testing/fixtures.js";
import { DEFAULT_DRIFT, driftCatalog, generateCatalog } from "./testing/synthetic-catalog.js";
import type { Plan, Server } from "./types.js";

const servers: Server[] = defaultMix();
const plan: Plan = planHca({
  cluster: "c",
  servers,
  catalog: generateCatalog({ files: 2000, alpha: 0.9, seed: 7 }).files,
}).plan;

describe("ringNeighbours", () => {
  it("finds where yesterday's plan put a file without yesterday's catalog, with the ring over today's", () => {
    // The fill's question: which server holds the file now (plan computed on day 0, over day 0's
    // catalog), asked on day 1, when only day 1's catalog is known.
    const day0 = generateCatalog({ files: 30_000, alpha: 0.9, seed: 11 });
    const now = planHca({ cluster: "c", servers, catalog: day0.files }).plan;
    const truth = assign(now, day0.files, servers);
    const day1 = driftCatalog(day0, 1, DEFAULT_DRIFT).files;
    const guess = assign(now, day1, servers);
    const near = ringNeighbours(now, 1);
    const held = day1.filter((f) => truth.holdersOf(f.key).length > 0);
    const found = (key: string, asked: readonly string[]) => truth.holdersOf(key).some((h) => asked.includes(h));
    const byGuess = held.filter((f) => found(f.key, guess.holdersOf(f.key))).length / held.length;
    const withNeighbours =
      held.filter((f) => found(f.key, [...guess.holdersOf(f.key), ...near(f.key)])).length / held.length;
    expect(withNeighbours).toBeGreaterThan(byGuess);
    expect(withNeighbours).toBeGreaterThan(0.99);
  });

  it.each([
    { name: "one distinct server per ring", perRing: 1, most: 2 },
    { name: "two per ring", perRing: 2, most: 4 },
  ])("$name: at most $most names, never twice", ({ perRing, most }) => {
    const near = ringNeighbours(plan, perRing);
    for (const key of ["t/a.mp4", "t/b.mp4", "u/c.mp4"]) {
      const names = near(key);
      expect(names.length).toBeLessThanOrEqual(most);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it("skips a ring without tokens", () => {
    const tailOnly = { servers: plan.servers.map((s) => ({ ...s, headTokens: 0 })) };
    expect(ringNeighbours(tailOnly, 1)("t/a.mp4")).toHaveLength(1);
  });
});
