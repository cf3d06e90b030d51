/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: take the
 * Lease when it is free or its holder has not renewed within leaseDuration; renew every retryPeriod;
 * a leader that cannot renew within renewDeadline stops leading. Updates carry the resourceVersion, so
 * two candidates racing for an expired Lease cannot both win. On shutdown the leader releases the Lease
 * for a fast hand-over.
 *
 * Losing the Lease ends the term, not the process (controller-runtime exits instead): `lead` gets a
 * signal that aborts at the renew deadline — a timer, so a renewal stuck on a stalled API server cannot
 * hold it off — and the elector campaigns again only once `lead` has returned, that is once every
 * worker it started has stopped. Another candidate can take the Lease only leaseDuration after the last
 * renewal, renewDeadline + the margin later, so two leaders never act at once; and an API server outage
 * longer than the deadline costs one hand-over, not a restart of every replica.
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

/**
 * Pure: may `identity` take or keep this Lease at `nowMs`, having last seen it change at `observedAtMs`?
 * Both times are this candidate's own clock (client-go's observedTime): the holder's renewTime is
 * written by the holder's clock, and a skewed or forged one must not decide who leads.
 * ❌ `Date.parse(lease.spec.renewTime) + duration < now`: a holder whose clock runs 20 s behind looks
 *    expired while it still renews, and two replicas lead.
 */
export function canAcquire(lease: Lease | undefined, identity: string, observedAtMs: number, nowMs: number): boolean {
  if (!lease?.spec.holderIdentity) return true;
  if (lease.spec.holderIdentity === identity) return true;
  const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
  return observedAtMs + durationMs <= nowMs;
}

export class LeaderElector {
  readonly #kube: Pick<Kube, "get" | "create" | "update">;
  readonly #o: Required<LeaderOptions>;
  readonly #log: Logger;
  /** The Lease's resourceVersion when this candidate last saw it change, and when (its own clock). */
  #observed = { version: "", atMs: 0 };
  /**
   * The Lease as this candidate's own last write left it: a leader renews from it without reading
   * first (client-go's optimistic fast path), one request per retryPeriod instead of two. Forgotten on
   * any failure: a 409 means someone else wrote, and the next attempt reads.
   */
  #held: Lease | undefined;

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
   * Campaigns for the Lease and runs `lead` for each term of leadership, with a signal that aborts when
   * the term ends (the Lease lost, or `signal`); after a lost term it campaigns again. Resolves, after
   * releasing the Lease, once `signal` has aborted or `lead` has returned of its own accord.
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    for (;;) {
      while (!signal.aborted && !(await this.#tryAcquireOrRenew())) await sleep(this.#o.retryPeriodMs, signal);
      if (signal.aborted) return;
      this.#log.info("became leader");
      if (!(await this.#term(signal, lead))) break;
      this.#log.warn("lost the lease; every controller has stopped; campaigning again");
    }
    await this.#release();
  }

  /**
   * One term: renews every retryPeriod while `lead` runs; ends it at the renew deadline. True when the
   * term ended because the Lease was lost.
   */
  async #term(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<boolean> {
    const lost = new AbortController();
    const leading = AbortSignal.any([signal, lost.signal]);
    let leaseLost = false;
    const expire = () =>
      setTimeout(() => {
        this.#log.error("failed to renew the lease within the deadline; stopping leading");
        leaseLost = true;
        lost.abort();
      }, this.#o.renewDeadlineMs);
    let deadline = expire();
    const renewing = (async () => {
      while (!leading.aborted) {
        await sleep(this.#o.retryPeriodMs, leading);
        if (leading.aborted) break;
        if (await this.#tryAcquireOrRenew()) {
          clearTimeout(deadline);
          deadline = expire();
        }
      }
    })();
    try {
      await lead(leading);
    } finally {
      clearTimeout(deadline);
      lost.abort();
      await renewing;
    }
    return leaseLost && !signal.aborted;
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#o;
    const now = this.#o.now();
    try {
      const lease = this.#held ?? (await this.#kube.get<Lease>(Kinds.Lease, { namespace, name }));
      this.#held = undefined;
      const version = lease?.metadata.resourceVersion ?? "";
      if (version !== this.#observed.version) this.#observed = { version, atMs: now.getTime() };
      if (!canAcquire(lease, identity, this.#observed.atMs, now.getTime())) return false;
      const mine = lease?.spec.holderIdentity === identity;
      const spec: Lease["spec"] = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: mine ? lease?.spec.acquireTime : micro(now),
        renewTime: micro(now),
        leaseTransitions: (lease?.spec.leaseTransitions ?? 0) + (mine || !lease ? 0 : 1),
      };
      const meta = { namespace, name };
      const written = lease
        ? await this.#kube.update<Lease>(Kinds.Lease, { ...lease, spec })
        : await this.#kube.create<Lease>(Kinds.Lease, {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: meta,
            spec,
          });
      this.#held = written;
      this.#observed = { version: written.metadata.resourceVersion ?? "", atMs: now.getTime() };
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: the API is unreachable; try again later.
      if (!(err instanceof ApiError && err.status === 409)) this.#log.warn({ err }, "lease update failed");
      return false;
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#o;
    this.#held = undefined;
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
