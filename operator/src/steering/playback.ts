import { CHUNK_SECONDS, chunkSizes } from "../ladder/chunks.js";
import type { LinkKeyring } from "./link-keys.js";
import { isServerLive } from "./liveness.js";
import type { RankedCluster } from "./rank.js";
import { signUrl } from "./sign-url.js";
import type { ClusterHealth, ClusterView, LocateFile, ServerEndpoint, TitleView } from "./snapshot.js";

export type ManifestRung = Readonly<{
  path: string;
  bitrateKbps: number;
  resolution?: string | undefined;
  vmaf?: number | undefined;
  /**
   * Best first, in the client's cluster ranking: per cluster, its live holders of the file (rankHolders:
   * the client's own holder, then the file's other replicas there), so a client leaving a failed server
   * tries the next holder in the same site before the next site.
   */
  urls: readonly string[];
  /** Each chunk's size, in order from byte 0 (ladder/chunks.ts): chunk i's range follows chunk i-1's. */
  chunkBytes?: readonly number[] | undefined;
}>;

export type Manifest = Readonly<{
  title: string;
  expiresAt: string;
  /** Present with the rungs' chunk indexes: every chunk lasts chunkSeconds but the last (the remainder). */
  durationSeconds?: number | undefined;
  chunkSeconds?: number | undefined;
  ladder: readonly Readonly<{ kind: string; codec: string; rungs: readonly ManifestRung[] }>[];
}>;

export type ManifestInput = Readonly<{
  title: TitleView;
  /** The client's ranking; only its first `maxClusters` clusters are offered. */
  ranked: readonly RankedCluster[];
  maxClusters: number;
  /** Per cluster name, its ACTIVE placement. A cluster without one offers nothing. */
  placements: ReadonlyMap<string, LocateFile>;
  /** Per cluster name, its link keys (the ones its edge checks links with). A cluster without them offers nothing. */
  linkKeys: ReadonlyMap<string, LinkKeyring>;
  /** Per cluster name, its servers' heartbeats: only servers live at `nowMs` are named. */
  health: ReadonlyMap<string, ClusterHealth>;
  nowMs: number;
  clientFamily: 4 | 6;
  /** The client's network (client-address.ts clientNet): every link is bound to it. */
  clientNet: string;
  /** Fixed per client: which replica of a replicated file it is sent to (see pickHolder). */
  spread: number;
  expiresAt: Date;
}>;

const serversByName = new WeakMap<ClusterView, ReadonlyMap<string, ServerEndpoint>>();

/** Cached per (immutable) cluster view: a cluster has up to 500 servers and each rung asks once per cluster. */
function server(cluster: ClusterView, name: string): ServerEndpoint | undefined {
  let byName = serversByName.get(cluster);
  if (byName === undefined) {
    byName = new Map(cluster.servers.map((s) => [s.name, s]));
    serversByName.set(cluster, byName);
  }
  return byName.get(name);
}

/** IPv6 clients get the server's IPv6 address when it has one; everyone else its IPv4 address. */
function baseUrl(cluster: ClusterView, s: ServerEndpoint, family: 4 | 6): string | undefined {
  const host = family === 6 && s.ipv6 !== undefined ? `[${s.ipv6}]` : s.ipv4;
  if (host === undefined) return undefined;
  const port = cluster.httpsPort ?? 443;
  return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/**
 * Which of a file's holders (LocateFile) a client is sent to: holder `spread mod holders` while it is
 * live, so clients split evenly over the holders and stay put; when it is not, the live holders share
 * its clients by `spread mod live holders`. Undefined when no holder is live: never a server that does
 * not hold the file.
 */
export function pickHolder(
  holders: readonly string[],
  spread: number,
  live: (server: string) => boolean,
): string | undefined {
  const first = holders[spread % Math.max(1, holders.length)];
  if (first === undefined || live(first)) return first;
  let alive = 0;
  for (const h of holders) if (live(h)) alive++;
  if (alive === 0) return undefined;
  let k = spread % alive;
  for (const h of holders) if (live(h) && k-- === 0) return h;
  return undefined;
}

/**
 * A file's live holders in a cluster in the order a client tries them: its own (pickHolder) first, then
 * the other live holders in ring order after it, so the clients of a failed holder spread over the rest.
 * Empty when none is live.
 */
export function rankHolders(holders: readonly string[], spread: number, live: (server: string) => boolean): string[] {
  const first = pickHolder(holders, spread, live);
  if (first === undefined) return [];
  const at = holders.indexOf(first);
  const rest = [...holders.slice(at + 1), ...holders.slice(0, at)].filter((h) => h !== first && live(h));
  return [first, ...rest];
}

/**
 * The kid a cluster's links are signed with: the primary once every live server that reports its kids
 * holds it (or when none reports: agents that do not say), so a rotation never hands out a link the
 * cluster's edges cannot check yet. Until then, of the kids steering holds that they all hold, the last
 * by name; the primary when there is none (nothing better to offer).
 */
export function signingKid(keys: LinkKeyring, accepted: ReadonlySet<string> | undefined): string {
  if (accepted === undefined || accepted.has(keys.primary)) return keys.primary;
  const held = [...keys.keys.keys()].filter((k) => accepted.has(k)).sort();
  return held.at(-1) ?? keys.primary;
}

/**
 * The playback manifest: the title's ladder, each rung with signed URLs for the client's top clusters,
 * in each to the servers of that cluster that hold the file and are live at `nowMs` (rankHolders). Only the ACTIVE placement is
 * asked, so a file that is not filled yet gets no URL; a file whose holders in a cluster are all stale
 * gets none from that cluster; rungs without any URL, and ladder entries left empty, are dropped.
 * Every URL is signed with the cluster's key of signingKid, bound to the client's network.
 * Returns undefined when no rung at all can be offered. Pure: time comes in as `nowMs` and `expiresAt`.
 */
export function buildManifest(input: ManifestInput): Manifest | undefined {
  const { clientNet: net, expiresAt } = input;
  const top = input.ranked.slice(0, input.maxClusters).flatMap(({ cluster }) => {
    const locate = input.placements.get(cluster.name);
    const keys = input.linkKeys.get(cluster.name);
    const health = input.health.get(cluster.name);
    const live = (s: string) => isServerLive(health, s, input.nowMs);
    const kid = keys === undefined ? undefined : signingKid(keys, health?.linkKids);
    const key = kid === undefined ? undefined : keys?.keys.get(kid);
    return locate === undefined || kid === undefined || key === undefined ? [] : [{ cluster, locate, kid, key, live }];
  });
  const ladder = input.title.ladder.flatMap(({ kind, codec, rungs }) => {
    const offered = rungs.flatMap((rung) => {
      const urls: string[] = [];
      for (const { cluster, locate, kid, key, live } of top) {
        for (const name of rankHolders(locate(rung.path), input.spread, live)) {
          const s = server(cluster, name);
          const base = s === undefined ? undefined : baseUrl(cluster, s, input.clientFamily);
          if (base === undefined) continue;
          urls.push(signUrl({ baseUrl: base, path: `/${rung.path}`, kid, key, net, expiresAt }));
        }
      }
      if (urls.length === 0) return [];
      const { bytes, ...offered } = rung;
      const duration = input.title.durationSeconds;
      const chunkBytes =
        bytes === undefined || duration === undefined
          ? undefined
          : chunkSizes({ titleId: input.title.id, path: rung.path, bytes, durationSeconds: duration });
      return [{ ...offered, urls, ...(chunkBytes ? { chunkBytes } : {}) }];
    });
    return offered.length === 0 ? [] : [{ kind, codec, rungs: offered }];
  });
  if (ladder.length === 0) return undefined;
  const duration = input.title.durationSeconds;
  const timing = duration === undefined ? {} : { durationSeconds: duration, chunkSeconds: CHUNK_SECONDS };
  return { title: input.title.id, expiresAt: input.expiresAt.toISOString(), ...timing, ladder };
}
