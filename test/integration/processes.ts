/**
 * The operator and steering as the integration tests run them: in the test's process, on one namespace,
 * every port ephemeral on loopback. Each test adds what it is about (link keys, fill policy, config).
 */
import type { OperatorOptions } from "../../operator/src/operator.js";
import type { SteeringOptions } from "../../operator/src/steering/process.js";

type Common = Pick<OperatorOptions, "kube" | "log"> & Readonly<{ namespace: string }>;

export const operatorOptions = (o: Common & Partial<OperatorOptions>): OperatorOptions => ({
  identity: "t",
  leaseNamespace: o.namespace,
  healthPort: 0,
  healthHost: "127.0.0.1",
  ...o,
});

export const steeringOptions = (
  o: Pick<SteeringOptions, "kube" | "log" | "linkKeys"> &
    Readonly<{ namespace: string }> &
    Partial<Omit<SteeringOptions, "kube" | "log" | "linkKeys">>,
): SteeringOptions => ({ port: 0, host: "127.0.0.1", healthPort: 0, config: {}, ...o });
