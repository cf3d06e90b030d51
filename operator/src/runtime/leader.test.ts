import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Kinds } from "../api/index.js";
import { ApiError, type KubeObject } from "./kube.js";
import { canAcquire, LeaderElector, type Lease } from "./leader.js";

const lease = (holder: string, renewTime: string, seconds = 15): Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "l", namespace: "ns" },
  spec: { holderIdentity: holder, renewTime, leaseDurationSeconds: seconds },
});
const t0 = new Date("2026-11-26T12:00:00.000Z");

describe("canAcquire", () => {
  const seenAgo = (s: number) => t0.getTime() - s * 1000;
  it.each([
    { name: "no lease yet", lease: undefined, seen: seenAgo(0), want: true },
    { name: "released (empty holder)", lease: lease("", t0.toISOString()), seen: seenAgo(0), want: true },
    { name: "mine", lease: lease("me", t0.toISOString()), seen: seenAgo(60), want: true },
    { name: "another's, seen renewed 5 s ago", lease: lease("other", t0.toISOString()), seen: seenAgo(5), want: false },
    { name: "another's, unchanged for 16 s", lease: lease("other", t0.toISOString()), seen: seenAgo(16), want: true },
    {
      name: "another's, renewTime an hour old but seen renewed 5 s ago (its clock is behind)",
      lease: lease("other", "2026-11-26T11:00:00.000Z"),
      seen: seenAgo(5),
      want: false,
    },
    {
      name: "another's, renewTime in the future but unchanged for 16 s (forged or skewed)",
      lease: lease("other", "2026-11-26T13:00:00.000Z"),
      seen: seenAgo(16),
      want: true,
    },
  ])("$name → $want", ({ lease, seen, want }) => {
    expect(canAcquire(lease, "me", seen, t0.getTime())).toBe(want);
  });
});

/** A Lease store behind get/create/update that can be taken down, or made to hang, like an API server. */
function fakeApi() {
  let stored: Lease | undefined;
  let version = 0;
  const api = {
    mode: "up" as "up" | "down" | "hang",
    reads: 0,
    writes: 0,
    get lease() {
      return stored;
    },
    async get<T>(): Promise<T | undefined> {
      api.reads++;
      await api.gate();
      return structuredClone(stored) as T | undefined;
    },
    async create<T>(_k: unknown, obj: KubeObject): Promise<T> {
      await api.gate();
      stored = { ...(obj as Lease), metadata: { ...obj.metadata, resourceVersion: String(++version) } };
      return stored as T;
    },
    async update<T>(_k: unknown, obj: KubeObject): Promise<T> {
      api.writes++;
      await api.gate();
      if (obj.metadata.resourceVersion !== stored?.metadata.resourceVersion)
        throw new ApiError(409, "Conflict", "stale");
      stored = { ...(obj as Lease), metadata: { ...obj.metadata, resourceVersion: String(++version) } };
      return stored as T;
    },
    gate(): Promise<void> {
      if (api.mode === "down") return Promise.reject(new ApiError(0, "ConnectionError", "connect ECONNREFUSED"));
      return api.mode === "hang" ? new Promise<void>(() => {}) : Promise.resolve();
    },
  };
  return api;
}

const timings = { leaseDurationMs: 300, renewDeadlineMs: 150, retryPeriodMs: 20 };
const until = async (what: string, f: () => boolean) => {
  for (let i = 0; i < 1000 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!f()) throw new Error(`never: ${what}`);
};

/** One candidate, "me", against a fresh fake API server, with a stop signal. */
function candidate() {
  const api = fakeApi();
  const log = pino({ level: "silent" });
  const elector = new LeaderElector(api, { namespace: "ns", name: "l", identity: "me", ...timings }, log);
  return { api, elector, stop: new AbortController() };
}

describe("LeaderElector", () => {
  it("a lost lease ends the term, not the run: the controllers stop, then it campaigns and leads again", async () => {
    const { api, elector, stop } = candidate();
    const terms: { ended: boolean }[] = [];
    let runEnded = false;
    const running = elector
      .run(stop.signal, async (leading) => {
        const term = { ended: false };
        terms.push(term);
        await new Promise((r) => leading.addEventListener("abort", r, { once: true }));
        term.ended = true;
      })
      .then(() => {
        runEnded = true;
      });
    await until("the first term", () => terms.length === 1);
    api.mode = "down";
    await until("the first term to end at the renew deadline", () => terms[0]?.ended === true);
    expect(runEnded).toBe(false);
    api.mode = "up";
    await until("a second term", () => terms.length === 2);
    expect(api.lease?.spec.holderIdentity).toBe("me");
    stop.abort();
    await running;
    expect(terms[1]?.ended).toBe(true);
    expect(api.lease?.spec.holderIdentity).toBe(""); // released on the way out
  });

  it("a leader renews from its own last write, without reading first; a conflict makes it read again", async () => {
    const { api, elector, stop } = candidate();
    const renewals = () => api.writes;
    const running = elector.run(
      stop.signal,
      (leading) => new Promise<void>((r) => leading.addEventListener("abort", () => r())),
    );
    await until("five renewals", () => renewals() >= 5);
    expect(api.reads).toBe(1); // the campaign's read, none since
    // Someone else writes the Lease (as a holder that took it over would): the next renewal conflicts.
    const held = api.lease as Lease;
    await api.update(Kinds.Lease, { ...held, spec: { ...held.spec } });
    const before = renewals();
    await until("a read after the conflict", () => api.reads === 2);
    await until("a renewal after it", () => renewals() >= before + 2 && api.lease?.spec.holderIdentity === "me");
    expect(api.reads).toBe(2);
    stop.abort();
    await running;
  });

  it("a renewal that hangs does not hold off the renew deadline", async () => {
    const { api, elector, stop } = candidate();
    let stopped = false;
    void elector.run(stop.signal, async (leading) => {
      api.mode = "hang"; // every renewal from now on waits forever
      await new Promise((r) => leading.addEventListener("abort", r, { once: true }));
      stopped = !stop.signal.aborted;
    });
    await until("the term to be stopped by the deadline", () => stopped);
    stop.abort();
  });
});
