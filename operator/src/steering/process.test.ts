/** Stopping steering before its caches sync: it returns, never listens, and ends within its grace period. */
import type { AddressInfo } from "node:net";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Kinds } from "../api/index.js";
import { fakeKube } from "../runtime/testing.js";
import { startSteering } from "./process.js";

const log = pino({ level: "silent" });
const options = (kube: ReturnType<typeof fakeKube>) => ({
  kube,
  log,
  port: 0,
  host: "127.0.0.1",
  healthPort: 0,
  signingKey: "0123456789abcdef",
  config: {},
});

describe("steering shutdown", () => {
  it("returns on the stop signal while a cache never syncs, and ends within its grace period", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    const t0 = performance.now();
    const st = await startSteering(options(fakeKube([Kinds.Title])), stop.signal);
    expect(st.server.listening).toBe(false);
    await st.done;
    expect(performance.now() - t0).toBeLessThan(2_300);
    expect(st.health.listening).toBe(false);
  });

  it("listens once every cache synced, and closes on stop", async () => {
    const stop = new AbortController();
    const st = await startSteering(options(fakeKube()), stop.signal);
    const port = (st.server.address() as AddressInfo).port;
    const r = await fetch(`http://127.0.0.1:${port}/v1/steering?ip=192.0.2.1`);
    expect(r.status).toBe(503); // no clusters: nothing to steer to, but the service answers
    stop.abort();
    await st.done;
    expect(st.server.listening).toBe(false);
  });
});
