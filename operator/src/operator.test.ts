/**
 * Stopping the operator while a cache never syncs (its CRD not installed, or RBAC missing for its
 * kind): it must still release everything and end within its grace period, not wait on the cache.
 */
import type { AddressInfo } from "node:net";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Kinds } from "./api/index.js";
import { startOperator } from "./operator.js";
import { fakeKube } from "./runtime/testing.js";

const log = pino({ level: "silent" });
const get = (port: number, path: string) =>
  fetch(`http://127.0.0.1:${port}${path}`).then(
    (r) => r.status,
    () => "refused" as const,
  );

describe("operator shutdown", () => {
  it("ends within its grace period when a cache never syncs, and stops answering /healthz", async () => {
    const stop = new AbortController();
    const op = await startOperator(
      {
        kube: fakeKube([Kinds.Placement]),
        log,
        identity: "t",
        leaseNamespace: "default",
        healthPort: 0,
        healthHost: "127.0.0.1",
      },
      stop.signal,
    );
    const port = (op.health.address() as AddressInfo).port;
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(port, "/healthz")).toBe(200);
    expect(await get(port, "/readyz")).toBe(503); // the Placement cache never synced
    const t0 = performance.now();
    stop.abort();
    await op.done;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(await get(port, "/healthz")).toBe("refused");
  });

  it("syncs, leads and ends as promptly when every kind is there", async () => {
    const stop = new AbortController();
    const op = await startOperator(
      { kube: fakeKube(), log, identity: "t", leaseNamespace: "default", healthPort: 0, healthHost: "127.0.0.1" },
      stop.signal,
    );
    const port = (op.health.address() as AddressInfo).port;
    await expect.poll(() => get(port, "/readyz")).toBe(200);
    const t0 = performance.now();
    stop.abort();
    await op.done;
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
