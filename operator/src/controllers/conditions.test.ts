import { describe, expect, it } from "vitest";
import { setCondition } from "./conditions.js";
import { holds } from "./status.js";

const t0 = new Date("2026-11-26T00:00:00Z");
const t1 = new Date("2026-11-26T01:00:00Z");

describe("setCondition", () => {
  it("keeps lastTransitionTime when the status is unchanged and moves it when it changes", () => {
    const a = setCondition([], { type: "Ready", status: "False", reason: "Filling", message: "" }, t0);
    const b = setCondition(a, { type: "Ready", status: "False", reason: "Filling", message: "50%" }, t1);
    expect(b[0]?.lastTransitionTime).toBe("2026-11-26T00:00:00Z");
    const c = setCondition(b, { type: "Ready", status: "True", reason: "Active", message: "" }, t1);
    expect(c[0]?.lastTransitionTime).toBe("2026-11-26T01:00:00Z");
  });

  it("keeps the order of conditions", () => {
    let cs = setCondition([], { type: "Ready", status: "True", reason: "R", message: "" }, t0);
    cs = setCondition(cs, { type: "Placed", status: "True", reason: "P", message: "" }, t0);
    cs = setCondition(cs, { type: "Ready", status: "False", reason: "R", message: "" }, t1);
    expect(cs.map((c) => c.type)).toEqual(["Ready", "Placed"]);
  });
});

describe("holds", () => {
  const cond = (type: string, status: "True" | "False") => ({
    type,
    status,
    reason: "R",
    message: "",
    lastTransitionTime: "2026-11-26T00:00:00Z",
  });
  it("compares only the fields and condition types being written", () => {
    const current = {
      phase: "Active",
      servers: [1],
      conditions: [cond("Ready", "True"), cond("EdgeConfigured", "True")],
    };
    expect(holds(current, { phase: "Active", conditions: [cond("Ready", "True")] })).toBe(true);
    expect(holds(current, { phase: "Active", conditions: [cond("Ready", "False")] })).toBe(false);
    expect(holds(current, { phase: "Filling" })).toBe(false);
    expect(holds(undefined, { phase: "Active" })).toBe(false);
  });
});
