/** An informer's list-watch health, and the readiness the process's informers derive from it. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Kinds } from "../api/index.js";
import { Informers } from "./caches.js";
import { Informer, type WatchHealth } from "./informer.js";
import { ApiError, type KubeClient } from "./kube.js";

const log = pino({ level: "silent" });
const refused = () => new ApiError(0, "ConnectionError", "connect ECONNREFUSED");

/**
 * An API server a test drives: `down` fails lists and new watches; `drop()` ends the open watches with
 * a connection error; `end()` ends them as the server does after timeoutSeconds.
 */
function scripted() {
  const open = new Set<{ resolve: () => void; reject: (e: Error) => void }>();
  const api = { down: false, lists: 0, watches: 0 };
  const kube: Pick<KubeClient, "list" | "watch"> = {
    list: async () => {
      api.lists++;
      if (api.down) throw refused();
      return { items: [], resourceVersion: "1" };
    },
    watch: (_k, opts, _e, signal) => {
      api.watches++;
      if (api.down) return Promise.reject(refused());
      opts.onOpen?.();
      return new Promise<void>((resolve, reject) => {
        const w = { resolve, reject };
        open.add(w);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
  const each = (fn: (w: { resolve: () => void; reject: (e: Error) => void }) => void) => {
    for (const w of open) fn(w);
    open.clear();
  };
  return {
    kube,
    api,
    drop: () => each((w) => w.reject(refused())),
    end: () => each((w) => w.resolve()),
  };
}

describe("Informer health", () => {
  it("up after the list, down from a dropped watch until one opens again, keeping when it went down", async () => {
    let now = 1_000;
    const s = scripted();
    const inf = new Informer(s.kube, Kinds.Lease, log, { now: () => now });
    const seen: WatchHealth[] = [];
    inf.onHealth((h) => seen.push(h));
    const stop = new AbortController();
    const running = inf.run(stop.signal);
    await inf.synced(stop.signal);
    expect(inf.health).toEqual({ kind: "leases", synced: true, downSinceMs: undefined, error: undefined });
    s.api.down = true;
    now = 2_000;
    s.drop();
    await expect.poll(() => inf.health.downSinceMs).toBe(2_000);
    expect(inf.health.error).toMatch(/ECONNREFUSED/);
    now = 9_000;
    const tries = s.api.watches;
    await expect.poll(() => s.api.watches, { timeout: 3_000 }).toBeGreaterThan(tries); // a retry failed again
    expect(inf.health.downSinceMs).toBe(2_000);
    s.api.down = false;
    await expect.poll(() => inf.health.downSinceMs, { timeout: 5_000 }).toBeUndefined();
    expect(seen.at(-1)).toEqual({ kind: "leases", synced: true, downSinceMs: undefined, error: undefined });
    stop.abort();
    await running;
  });

  it("a watch the server ends is down (no error) only until the next opens", async () => {
    const s = scripted();
    const inf = new Informer(s.kube, Kinds.Lease, log, { now: () => 5 });
    const seen: (number | undefined)[] = [];
    inf.onHealth((h) => seen.push(h.downSinceMs));
    const stop = new AbortController();
    const running = inf.run(stop.signal);
    await inf.synced(stop.signal);
    s.end();
    await expect.poll(() => seen).toEqual([undefined, 5, undefined]);
    stop.abort();
    await running;
  });
});

describe("Informers.readiness", () => {
  it("names the kinds not synced, then those down longer than the grace", async () => {
    const s = scripted();
    s.api.down = true;
    const stop = new AbortController();
    let now = 0;
    const informers = new Informers(s.kube, log, { now: () => now }, stop.signal);
    informers.of(Kinds.Lease);
    informers.of(Kinds.Title);
    expect(informers.readiness(now, 1_000)).toEqual({ ok: false, reason: "caches not synced: leases, titles" });
    s.api.down = false;
    await informers.synced(stop.signal);
    expect(informers.readiness(now, 1_000)).toEqual({ ok: true, reason: "ok" });
    s.api.down = true;
    now = 10_000;
    s.drop();
    await expect.poll(() => informers.health().every((h) => h.downSinceMs === 10_000)).toBe(true);
    expect(informers.readiness(11_000, 1_000).ok).toBe(true); // within the grace
    expect(informers.readiness(12_500, 1_000)).toEqual({ ok: false, reason: "watches down for 3 s: leases, titles" });
    stop.abort();
    await informers.stopped();
  });
});
