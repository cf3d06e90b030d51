import pino from "pino";
import { describe, expect, it } from "vitest";
import { type Reconciler, requestOf, runController, TerminalError } from "./controller.js";
import { makeMetrics } from "./metrics.js";
import { WorkQueue } from "./workqueue.js";

const log = pino({ level: "silent" });

async function drive(reconciler: Reconciler, keys: string[], until: () => boolean) {
  const queue = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 4 });
  const metrics = makeMetrics();
  const stop = new AbortController();
  const done = runController({ name: "t", queue, reconciler, log, metrics, workers: 2 }, stop.signal);
  for (const k of keys) queue.add(k);
  while (!until()) await new Promise((r) => setTimeout(r, 2));
  stop.abort();
  await done;
  return metrics;
}

describe("runController", () => {
  it("splits keys into requests", () => {
    expect(requestOf("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(requestOf("cluster-scoped")).toEqual({ namespace: "", name: "cluster-scoped" });
  });

  it("retries a failing reconcile with back-off until it succeeds", async () => {
    let calls = 0;
    const m = await drive(
      {
        reconcile: async () => {
          calls++;
          if (calls < 3) throw new Error("transient");
          return {};
        },
      },
      ["ns/a"],
      () => calls >= 3,
    );
    expect(calls).toBe(3);
    const total = await m.reconcileTotal.get();
    expect(total.values.find((v) => v.labels.result === "success")?.value).toBe(1);
    expect(total.values.find((v) => v.labels.result === "error")?.value).toBe(2);
  });

  it("does not retry a TerminalError", async () => {
    let calls = 0;
    const m = await drive(
      {
        reconcile: async () => {
          calls++;
          throw new TerminalError("spec invalid");
        },
      },
      ["ns/bad"],
      () => calls >= 1,
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    expect((await m.terminalErrors.get()).values[0]?.value).toBe(1);
  });

  it("never reconciles one key on two workers at once", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const queue = new WorkQueue();
    const stop = new AbortController();
    const reconciler: Reconciler = {
      reconcile: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        calls++;
        if (calls === 1) queue.add("ns/k"); // changed while in flight
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return {};
      },
    };
    const done = runController({ name: "t", queue, reconciler, log, metrics: makeMetrics(), workers: 4 }, stop.signal);
    queue.add("ns/k");
    while (calls < 2 || inFlight > 0) await new Promise((r) => setTimeout(r, 2));
    stop.abort();
    await done;
    expect(maxInFlight).toBe(1);
    expect(calls).toBe(2);
  });
});
