/**
 * The steering process around its caches: it listens at once and answers 503 NotSynced until synced;
 * a stop ends it within its grace period whether the caches never sync, the API server refuses
 * connections or never answers, or a client holds a request half-sent; /readyz follows the watches.
 */

import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Kinds } from "../api/index.js";
import { ApiError, type KubeClient } from "../runtime/kube.js";
import { fakeKube } from "../runtime/testing.js";
import { fixedLinkKeys } from "./link-keys.js";
import { type RunningSteering, startSteering } from "./process.js";

const log = pino({ level: "silent" });
const options = (kube: Pick<KubeClient, "list" | "watch">) => ({
  kube,
  log,
  port: 0,
  host: "127.0.0.1",
  healthPort: 0,
  linkKeys: fixedLinkKeys({
    keys: new Map([["k1", Buffer.from("master-0123456789abcdefghijklmnopqrstu")]]),
    primary: "k1",
  }),
  config: {},
  watchGraceMs: 100,
  drainMs: 200,
});
const url = (st: RunningSteering, path: string, health = false) =>
  `http://127.0.0.1:${((health ? st.health : st.server)?.address() as AddressInfo | undefined)?.port}${path}`;
const answer = async (u: string) => {
  const r = await fetch(u);
  return { status: r.status, stale: r.headers.get("x-edgefleet-stale"), text: await r.text() };
};

/** An API server that refuses every connection: every list and watch fails at once. */
const refusing: Pick<KubeClient, "list" | "watch"> = {
  list: async () => {
    throw new ApiError(0, "ConnectionError", "connect ECONNREFUSED 127.0.0.1:6443");
  },
  watch: async () => {
    throw new ApiError(0, "ConnectionError", "connect ECONNREFUSED 127.0.0.1:6443");
  },
};

/** An API server that accepts and never answers: lists wait until their signal aborts. */
const silent: Pick<KubeClient, "list" | "watch"> = {
  list: (_k, o) =>
    new Promise((_resolve, reject) =>
      o?.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
    ),
  watch: (_k, _o, _e, signal) => new Promise((r) => signal.addEventListener("abort", () => r(), { once: true })),
};

/**
 * An API server that can go away: while `down`, lists and new watches fail; going down ends every open
 * watch with a connection error, as a killed kube-apiserver does.
 */
function outage() {
  const k = fakeKube();
  const open = new Set<(err: Error) => void>();
  const state = { down: false };
  const gone = () => new ApiError(0, "ConnectionError", "connect ECONNREFUSED");
  const kube: Pick<KubeClient, "list" | "watch"> = {
    list: async (kind, o) => {
      if (state.down) throw gone();
      return k.list(kind, o);
    },
    watch: (_kind, opts, _onEvent, signal) => {
      if (state.down) return Promise.reject(gone());
      opts.onOpen?.();
      return new Promise<void>((resolve, reject) => {
        open.add(reject);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
  return {
    kube,
    goDown() {
      state.down = true;
      for (const reject of open) reject(gone());
      open.clear();
    },
  };
}

/** A client that sends half a request and then nothing; resolves once the server has closed it. */
const halfRequest = (port: number) =>
  new Promise<{ closed: Promise<void> }>((resolve) => {
    const s: Socket = connect(port, "127.0.0.1", () => {
      s.write("GET /v1/steering?ip=192.0.2.1 HTTP/1.1\r\nhost: x\r\nx-slow: ");
      resolve({ closed: new Promise((r) => s.on("close", () => r())) });
    });
    s.on("error", () => {});
  });

describe("steering process", () => {
  const stops: AbortController[] = [];
  afterEach(() => {
    for (const s of stops) s.abort();
  });
  const stopper = () => {
    const c = new AbortController();
    stops.push(c);
    return c;
  };

  it.each([
    { name: "a cache never syncs (a CRD not installed)", kube: fakeKube([Kinds.Title]), waiting: "titles" },
    { name: "the API server refuses connections", kube: refusing, waiting: "leases" },
    { name: "the API server never answers", kube: silent, waiting: "leases" },
  ])("before sync answers 503 NotSynced, and a stop ends it within its grace period: $name", async (c) => {
    const stop = stopper();
    const st = await startSteering(options(c.kube), stop.signal);
    expect(st.server.listening).toBe(true);
    const r = await answer(url(st, "/v1/steering?ip=192.0.2.1"));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: "NotSynced" } });
    expect(r.text).toContain(c.waiting);
    const ready = await answer(url(st, "/readyz", true));
    expect([ready.status, ready.text]).toEqual([503, expect.stringContaining(`caches not synced: `)]);
    expect(ready.text).toContain(c.waiting);
    const slow = await halfRequest((st.server.address() as AddressInfo).port);
    const t0 = performance.now();
    stop.abort();
    await st.done;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect([st.server.listening, st.health?.listening]).toEqual([false, false]);
    await slow.closed; // closed by the server: the test would time out otherwise
  });

  it("answers once every cache synced, and closes on stop", async () => {
    const stop = stopper();
    const st = await startSteering(options(fakeKube()), stop.signal);
    await expect.poll(async () => (await answer(url(st, "/readyz", true))).status).toBe(200);
    const r = await answer(url(st, "/v1/steering?ip=192.0.2.1"));
    expect(r.status).toBe(503); // no clusters: nothing to steer to, but the service answers
    expect([JSON.parse(r.text).error.code, r.stale]).toEqual(["NoClusterAvailable", null]);
    stop.abort();
    await st.done;
    expect(st.server.listening).toBe(false);
  });

  it("with its watches down: /readyz fails after the grace naming the kinds, answers say how stale, and a stop ends it", async () => {
    const api = outage();
    const stop = stopper();
    const st = await startSteering(options(api.kube), stop.signal);
    await expect.poll(async () => (await answer(url(st, "/readyz", true))).status).toBe(200);
    api.goDown();
    await expect.poll(async () => (await answer(url(st, "/readyz", true))).status).toBe(503);
    const ready = await answer(url(st, "/readyz", true));
    expect(ready.text).toMatch(/^watches down for \d+ s: /);
    for (const kind of ["ocaclusters", "titles", "popularities", "placements", "leases"]) {
      expect(ready.text).toContain(kind);
    }
    const r = await answer(url(st, "/v1/steering?ip=192.0.2.1"));
    expect(r.stale).toMatch(/^\d+$/);
    const metrics = await answer(url(st, "/metrics", true));
    expect(metrics.text).toMatch(/^edgefleet_steering_stale_seconds \d/m);
    expect(metrics.text).toMatch(/^edgefleet_steering_manifest_cache_bytes 0$/m);
    const t0 = performance.now();
    stop.abort();
    await st.done;
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
