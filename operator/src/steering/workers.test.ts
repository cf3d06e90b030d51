import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { defaultWorkers } from "./workers.js";

describe("defaultWorkers", () => {
  const cores = availableParallelism();
  it.each([
    { name: "no cgroup file", cpuMax: undefined, want: cores },
    { name: "no quota", cpuMax: "max 100000\n", want: cores },
    { name: "a quota of 1 CPU", cpuMax: "100000 100000\n", want: 1 },
    { name: "half a CPU: still one worker", cpuMax: "50000 100000\n", want: 1 },
    { name: "1.5 CPUs rounded up, at most the cores", cpuMax: "150000 100000\n", want: Math.min(cores, 2) },
    { name: "more CPUs than cores", cpuMax: "6400000 100000\n", want: cores },
  ])("$name → $want", ({ cpuMax, want }) => expect(defaultWorkers(() => cpuMax)).toBe(want));
});
