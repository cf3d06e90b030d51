/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: take the
 * Lease when it is free or its holder has not renewed within leaseDuration; renew every retryPeriod;
 * a leader that cannot renew within renewDeadline stops leading (and the process should exit, so that
 * two leaders never act at once). Updates carry the resourceVersion, so two candidates racing for an
 * expired Lease cannot both win. On shutdown the leader releases the Lease for a fast hand-over.
 */
import type { Logger } from "pino";
import { Kinds } from "../api/index.js";
import { sleep } from "./informer.js";
import { ApiError, type Kube, type KubeObject } from "./kube.js";

export type Lease = KubeObject & {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
};

export type LeaderOptions = Readonly<{
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => Date;
}>;

const micro = (d: Date) => d.toISOString().replace("Z", "000Z"); // MicroTime: RFC 3339 with microseconds

/** Pure: may `identity` take or keep this Lease at `now`? */
export function canAcquire(lease: Lease | undefined, identity: string, now: Date): boolean {
  if (!lease?.spec.holderIdentity) return true;
  if (lease.spec.holderIdentity === identity) return true;
  const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? "");
  const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
  return !(renewed + durationMs > now.getTime());
}

export class LeaderElector {
  readonly #kube: Pick<Kube, "get" | "create" | "update">;
  readonly #o: Required<LeaderOptions>;
  readonly #log: Logger;

  constructor(kube: Pick<Kube, "get" | "create" | "update">, opts: LeaderOptions, log: Logger) {
    this.#kube = kube;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: () => new Date(),
      ...opts,
    };
    this.#log = log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  /**
   * Waits for leadership, runs `lead` with a signal that aborts when leadership is lost or `signal`
   * aborts, and resolves when leading has ended (after releasing the Lease on a clean stop).
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted && !(await this.#tryAcquireOrRenew())) await sleep(this.#o.retryPeriodMs, signal);
    if (signal.aborted) return;
    this.#log.info("became leader");
    const lost = new AbortController();
    const leading = AbortSignal.any([signal, lost.signal]);
    const renewing = (async () => {
      let lastRenew = Date.now();
      while (!leading.aborted) {
        await sleep(this.#o.retryPeriodMs, leading);
        if (leading.aborted) break;
        if (await this.#tryAcquireOrRenew()) lastRenew = Date.now();
        else if (Date.now() - lastRenew > this.#o.renewDeadlineMs) {
          this.#log.error("failed to renew the lease within the deadline; stopping leading");
          lost.abort();
        }
      }
    })();
    try {
      await lead(leading);
    } finally {
      lost.abort();
      await renewing;
      if (signal.aborted) await this.#release();
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#o;
    const now = this.#o.now();
    try {
      const lease = await this.#kube.get<Lease>(Kinds.Lease, { namespace, name });
      if (!canAcquire(lease, identity, now)) return false;
      const mine = lease?.spec.holderIdentity === identity;
      const spec: Lease["spec"] = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: mine ? lease?.spec.acquireTime : micro(now),
        renewTime: micro(now),
        leaseTransitions: (lease?.spec.leaseTransitions ?? 0) + (mine || !lease ? 0 : 1),
      };
      const meta = { namespace, name };
      if (lease) {
        await this.#kube.update(Kinds.Lease, { ...lease, spec });
      } else {
        await this.#kube.create(Kinds.Lease, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: meta,
          spec,
        });
      }
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: the API is unreachable; try again later.
      if (!(err instanceof ApiError && err.status === 409)) this.#log.warn({ err }, "lease update failed");
      return false;
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#o;
    try {
      const lease = await this.#kube.get<Lease>(Kinds.Lease, { namespace, name });
      if (lease?.spec.holderIdentity !== identity) return;
      await this.#kube.update(Kinds.Lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 },
      });
      this.#log.info("released the lease");
    } catch (err) {
      this.#log.warn({ err }, "could not release the lease");
    }
  }
}
