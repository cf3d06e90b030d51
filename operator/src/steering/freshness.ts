/**
 * Stale-while-error. A server is live for its Lease's duration after steering saw the Lease renewed
 * (api/heartbeat.ts). While steering's own watch of the Leases is down (the API server is away, or the
 * connection to it), no renewal can be seen, so after one lease duration every server would look dead
 * though nothing is known to have changed: every client would get NoClusterAvailable from a steering
 * process that still holds the whole fleet.
 *
 * So, while the Lease watch is down, liveness is judged as of the moment it went down: a server live
 * then stays live, one already stale then stays stale, and every answer says it rests on a view that
 * could not be kept current (`stale`). For at most `staleWhileErrorMs`: after that steering fails
 * closed, as if every server had stopped renewing. Once the watch is back, a server that was live when
 * it went down and has not been seen renewed since is charged nothing for the outage (`expiryAfterOutage`):
 * its remaining lease time runs from the recovery, so a server that is renewing is seen doing so before
 * it lapses, and one that died during the outage drops out that remaining time after the recovery.
 * Pure: time comes in as arguments.
 */

/** What the steering service knows of its own view of the fleet. */
export type FleetView = Readonly<{
  /** False until the caches have synced and the store has been filled from them. */
  synced: boolean;
  /** While not synced: the kinds still awaited, for the 503's message. */
  waitingFor: readonly string[];
  /** Since when (epoch ms) the heartbeat Leases' watch has been down; undefined while it is up. */
  leasesDownSinceMs: number | undefined;
}>;

/** A view that is always current: for tests and benchmarks that feed the store by hand. */
export const CURRENT_VIEW: FleetView = { synced: true, waitingFor: [], leasesDownSinceMs: undefined };

export type LivenessClock = Readonly<{
  /** The instant at which server liveness is judged. */
  atMs: number;
  /**
   * Set while the Lease watch is down: since when, and whether liveness is still held at that moment
   * (`held`, within the stale-while-error bound) or judged at the real time again (past it).
   */
  stale?: Readonly<{ sinceMs: number; held: boolean }> | undefined;
}>;

/**
 * When to judge liveness at `nowMs`: now while the Lease watch is up; the moment it went down while it
 * has been down for at most `staleWhileErrorMs`; now again (failing closed) after that.
 */
export function livenessClock(nowMs: number, view: FleetView, staleWhileErrorMs: number): LivenessClock {
  const since = view.leasesDownSinceMs;
  if (since === undefined) return { atMs: nowMs };
  const held = nowMs - since <= staleWhileErrorMs;
  return { atMs: held ? Math.min(nowMs, since) : nowMs, stale: { sinceMs: since, held } };
}

/** A time the Lease watch was down: from when it went down to when it was back. */
export type Outage = Readonly<{ fromMs: number; toMs: number }>;

/**
 * A heartbeat's expiry once the Lease watch is back after `outage`: a Lease last seen renewed before
 * the outage began, and live when it began, gets the outage's length (at most `maxCreditMs`) added;
 * any other keeps its expiry (one seen after the recovery needs none, one stale before never had any).
 */
export function expiryAfterOutage(
  expiryMs: number,
  observedAtMs: number,
  outage: Outage | undefined,
  maxCreditMs: number,
): number {
  if (outage === undefined || observedAtMs > outage.fromMs || expiryMs < outage.fromMs) return expiryMs;
  return expiryMs + Math.min(Math.max(0, outage.toMs - outage.fromMs), maxCreditMs);
}
