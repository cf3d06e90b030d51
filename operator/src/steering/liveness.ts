/**
 * Which servers of a cluster are live: those whose own heartbeat has not expired by steering's clock
 * (api/heartbeat.ts `isStale`), judged at request time so that time passing alone drops a server. A
 * server without any heartbeat is not live, as a cluster without any is not ranked (rank.ts).
 */
import { isStale } from "../api/heartbeat.js";
import type { ClusterHealth, ClusterView } from "./snapshot.js";

/** A cluster's health from its servers' heartbeat expiries: live while any of its servers is. */
export function clusterHealth(
  o: Readonly<{
    servers: ReadonlyMap<string, number>;
    load: number;
    saturated?: boolean | undefined;
    linkKids?: ReadonlySet<string> | undefined;
  }>,
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

/** Per (health, view): the view's server indices by heartbeat expiry, and the keys computed so far. */
type Memo = {
  view: ClusterView;
  /** Ascending; -Infinity for a server without a heartbeat. */
  expiries: Float64Array;
  /** `order[i]` is the index in `view.servers` of the server with `expiries[i]`. */
  order: Int32Array;
  /** By the number of servers not live: the key. */
  keys: Map<number, string>;
};

const memos = new WeakMap<ClusterHealth, Memo>();
const NO_HEARTBEATS: ClusterHealth = clusterHealth({ servers: new Map(), load: 0 });

function memoOf(cluster: ClusterView, health: ClusterHealth): Memo {
  const m = memos.get(health);
  if (m !== undefined && m.view === cluster) return m;
  const n = cluster.servers.length;
  const exp = cluster.servers.map((s) => health.servers.get(s.name) ?? Number.NEGATIVE_INFINITY);
  const at = (i: number) => exp[i] ?? Number.NEGATIVE_INFINITY;
  // Compared, not subtracted: -Infinity minus -Infinity is NaN.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0,
  );
  const expiries = Float64Array.from(order, at);
  const memo = { view: cluster, expiries, order, keys: new Map<number, string>() };
  memos.set(health, memo);
  return memo;
}

/**
 * Names which of `cluster`'s servers are live at `nowMs`, for a cache key: for one cluster view, two
 * keys are equal exactly when the same servers are live, whatever heartbeats arrived in between (a
 * renewal changes no key). "" while every server is live; otherwise "!" and the view indices of the
 * servers that are not. A new view comes with a new SteeringState generation, which empties the
 * manifest cache, so indices never outlive the view they index.
 *
 * Cheap on the request path: memoised per (immutable) health object, a sort of the cluster's servers
 * by expiry on first use; then O(1) while all are live, else a count and one memoised string per count.
 */
export function liveSetKey(cluster: ClusterView, health: ClusterHealth | undefined, nowMs: number): string {
  const m = memoOf(cluster, health ?? NO_HEARTBEATS);
  let stale = 0;
  // Stale: nowMs past the expiry. The stale servers are a prefix of the ascending expiries.
  while (stale < m.expiries.length && isStale(m.expiries[stale] ?? 0, nowMs)) stale++;
  if (stale === 0) return "";
  let key = m.keys.get(stale);
  if (key === undefined) {
    key = `!${[...m.order.subarray(0, stale)].sort((a, b) => a - b).join(",")}`;
    m.keys.set(stale, key);
  }
  return key;
}
