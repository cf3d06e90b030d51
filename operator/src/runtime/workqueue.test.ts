import { describe, expect, it } from "vitest";
import { WorkQueue } from "./workqueue.js";

describe("WorkQueue", () => {
  it("processes a key added many times once", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands out a key that is in flight; re-queues it after done()", async () => {
    const q = new WorkQueue();
    q.add("a");
    const k = await q.get();
    q.add("a"); // changed while being reconciled
    expect(q.depth).toBe(0);
    q.done(k ?? "");
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("wakes a waiting worker", async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add("x");
    expect(await next).toBe("x");
  });

  it("backs off exponentially per key until forget()", () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 100 });
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited("k"))).toEqual([5, 10, 20, 40, 80, 100]);
    expect(q.addRateLimited("other")).toBe(5);
    q.forget("k");
    expect(q.addRateLimited("k")).toBe(5);
    q.shutDown();
  });

  it("returns undefined to waiters on shutdown", async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.shutDown();
    expect(await next).toBeUndefined();
    q.add("late");
    expect(q.depth).toBe(0);
  });
});
