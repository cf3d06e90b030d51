import { describe, expect, it } from "vitest";
import { assign } from "./assign.js";
import { churn } from "./churn.js";
import { planHca } from "./hca.js";
import { server } from "./testing/fixtures.js";
import { generateCatalog } from "./testing/synthetic-catalog.js";

describe("churn", () => {
  const catalog = generateCatalog({ files: 3000, alpha: 1, seed: 4 }).files;
  const list = [server("a", 4, 10), server("b", 4, 10), server("c", 4, 10)];
  const base = assign(planHca({ cluster: "c", servers: list, catalog }).plan, catalog, list);

  it("is zero between identical placements", () => {
    expect(churn(base, base)).toMatchObject({ totalBytes: 0, files: 0, byCause: { drift: 0, cutoff: 0, servers: 0 } });
  });

  it("charges a new server's whole fill to server changes", () => {
    const grown = [...list, server("d", 4, 10)];
    const plan = planHca({
      cluster: "c",
      servers: grown,
      catalog,
      previous: planHca({ cluster: "c", servers: list, catalog }).plan,
    });
    const after = assign(plan.plan, catalog, grown);
    const c = churn(base, after);
    const d = after.servers.indexOf("d");
    expect(c.perServer[d]).toBe(after.bytes[d]);
    expect(c.byCause.servers).toBeGreaterThanOrEqual(after.bytes[d] ?? 0);
    expect(c.totalBytes).toBe(c.byCause.drift + c.byCause.cutoff + c.byCause.servers);
  });

  it("counts every byte of a file new to the catalog", () => {
    const extra = { key: "zz/new.mp4", bytes: 123, demand: 0 };
    const after = assign(
      planHca({ cluster: "c", servers: list, catalog: [...catalog, extra] }).plan,
      [...catalog, extra],
      list,
    );
    const c = churn(base, after);
    expect(c.byCause.drift).toBeGreaterThanOrEqual(123);
    expect(c.files).toBeGreaterThanOrEqual(1);
  });
});
