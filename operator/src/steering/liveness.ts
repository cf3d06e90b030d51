/**
 * Which servers of a cluster are live: those whose own heartbeat has not expired by steering's clock
 * (api/heartbeat.ts `isStale`), judged at request time so that time passing alone drops a server. A
 * server without any heartbeat is not live, as a cluster without any is not ranked (rank.ts).
 */
import { isStale } from "../api/heartbeat.js";
import type { ClusterHealth } from "./snapshot.js";

/** A cluster's health from its servers' heartbeat expiries: live while any of its servers is. */
export function clusterHealth(
  o: Readonly<{ servers: ReadonlyMap<string, number>; load: number; saturated?: boolean | undefined }>,
): ClusterHealth {
  let expiresAtMs = Number.NEGATIVE_INFINITY;
  for (const e of o.servers.values()) if (e > expiresAtMs) expiresAtMs = e;
  return { ...o, expiresAtMs };
}

/** Live: the server has a heartbeat and `nowMs` is not past its expiry (live up to and at it). */
export function isServerLive(health: ClusterHealth | undefined, server: string, nowMs: number): boolean {
  const e = health?.servers.get(server);
  return e !== undefined && !isStale(e, nowMs);
}
