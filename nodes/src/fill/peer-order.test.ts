import { describe, expect, it } from "vitest";
import { type Holders, orderPeers } from "./peer-order.js";

/** Holders from a table: key → servers, in the order the assignment gives them. */
const holders = (t: Record<string, string[]>): Holders => ({ holdersOf: (k) => t[k] ?? [] });

describe("orderPeers", () => {
  it.each([
    {
      name: "moves from A to B: B asks A, its holder now",
      active: { f: ["A"] },
      next: { f: ["B"] },
      want: ["A"],
    },
    {
      name: "moves from A to B, also held by C under the new placement: A, then C",
      active: { f: ["A"] },
      next: { f: ["B", "C"] },
      want: ["A", "C"],
    },
    {
      name: "replicated now on A and D: both before the new placement's other holders",
      active: { f: ["D", "A"] },
      next: { f: ["C", "B"] },
      want: ["D", "A", "C"],
    },
    {
      name: "held by the same peer in both: asked once, at its Active rank",
      active: { f: ["C", "A"] },
      next: { f: ["B", "C"] },
      want: ["C", "A"],
    },
    {
      name: "B held it under the Active placement too (it lacks it on disk): never asks itself",
      active: { f: ["B", "A"] },
      next: { f: ["B"] },
      want: ["A"],
    },
    {
      name: "a file new to the catalog (no Active holder): the new placement's other holders",
      active: {},
      next: { f: ["C", "B"] },
      want: ["C"],
    },
    {
      name: "no Active placement (the site's first fill): as the new placement says",
      active: undefined,
      next: { f: ["B", "C"] },
      want: ["C"],
    },
    {
      name: "held by B alone under both: no peer, origin only",
      active: { f: ["B"] },
      next: { f: ["B"] },
      want: [],
    },
  ] as {
    name: string;
    active: Record<string, string[]> | undefined;
    next: Record<string, string[]>;
    want: string[];
  }[])("$name", ({ active, next, want }) => {
    const got = orderPeers("B", ["f"], holders(next), active === undefined ? undefined : holders(active));
    expect(got.get("f")).toEqual(want);
  });

  it("gives every key asked for, in the order asked, each with its own peers", () => {
    const got = orderPeers(
      "B",
      ["y", "x", "z"],
      holders({ x: ["B"], y: ["B", "C"], z: ["B"] }),
      holders({ x: ["A"], y: ["C"] }),
    );
    expect([...got]).toEqual([
      ["y", ["C"]],
      ["x", ["A"]],
      ["z", []],
    ]);
  });
});
