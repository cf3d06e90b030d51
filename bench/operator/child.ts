/**
 * The operator under measurement, in a process of its own (forked by bench/operator.ts) so that its
 * memory and CPU are its own, not the fleet generator's: `startOperator` as the CLI runs it
 * (namespace-scoped), its client counting every API request. It answers the bench over IPC:
 * "counts" → its request counts; "stop" → shuts down (writing its --cpu-prof profile) and exits.
 */
import pino from "pino";
import { startOperator } from "../../operator/src/operator.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { fixedLinkKeys } from "../../operator/src/steering/link-keys.js";
import { RequestCounter } from "./requests.js";

export type ChildMessage = { type: "ready"; healthPort: number } | { type: "counts"; counts: unknown };

const [kubeconfig = "", namespace = ""] = process.argv.slice(2);
const send = (m: ChildMessage) => process.send?.(m);
const counter = new RequestCounter();
const kube = await Kube.connect(kubeconfig, { onRequest: counter.observe });
const stop = new AbortController();
const op = await startOperator(
  {
    kube,
    log: pino({ level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2)),
    namespace,
    identity: "bench",
    leaseNamespace: namespace,
    healthPort: 0,
    healthHost: "127.0.0.1",
    linkKeys: fixedLinkKeys({
      keys: new Map([["k1", Buffer.from("bench-master-k1-0123456789abcdefghij")]]),
      primary: "k1",
    }),
  },
  stop.signal,
);
const address = op.health.address();
send({ type: "ready", healthPort: typeof address === "object" && address ? address.port : 0 });
process.on("message", (m: { type: string }) => {
  if (m.type === "counts") send({ type: "counts", counts: counter.snapshot() });
  if (m.type === "stop") {
    stop.abort();
    void op.done.finally(() => process.exit(0));
  }
});
