/**
 * Keeps a SteeringStore in step with the fleet's objects, read from the process's shared caches:
 * OCAClusters give the prefix tables (and, with the master keys, each cluster's link keys), Titles the ladders, each cluster's ACTIVE
 * Placement where its files are, and the servers' heartbeat Leases each server's liveness (its own
 * expiry) and the cluster's load. Bursts of changes (an initial list, a daily catalog update) coalesce
 * into one refresh.
 *
 * A cluster's files are located with its active Placement over the catalog snapshot that Placement was
 * computed for. The snapshot of each active Placement is remembered while it is current; a steering
 * process started after the region's catalog moved on recomputes over the current catalog, where the
 * ring still places nearly every file as before, and says so in its log.
 *
 * When the Lease watch comes back after being down, servers that were live when it went down and have
 * not been seen renewed since are not charged for the outage (freshness.ts `expiryAfterOutage`); the
 * health is recomputed at once, in the same turn as the watch is marked up, so no request sees the
 * watch up with expiries that still count the outage against them.
 */
import type { Logger } from "pino";
import {
  byAge,
  heartbeatExpiry,
  isStale,
  type Lease,
  type OCACluster,
  type Placement,
  type Popularity,
  type Title,
  type TitleSpec,
} from "../api/index.js";
import { RegionCatalogs } from "../catalog/catalog.js";
import { serversOf } from "../catalog/servers.js";
import { buildLadder } from "../ladder/index.js";
import { assign } from "../placement/index.js";
import type { Shared } from "../runtime/caches.js";
import type { WatchHealth } from "../runtime/informer.js";
import { expiryAfterOutage, type Outage } from "./freshness.js";
import { clusterKeyring, type LinkKeyring, type LinkKeySource } from "./link-keys.js";
import { clusterHealth } from "./liveness.js";
import type { ClusterHealth, ClusterView, LadderEntry, LocateFile, TitleView } from "./snapshot.js";
import type { SteeringIndex } from "./steering-index.js";
import type { SteeringStore } from "./store.js";

export type FeedSources = Readonly<{
  clusters: Shared<OCACluster>;
  titles: Shared<Title>;
  popularities: Shared<Popularity>;
  placements: Shared<Placement>;
  leases: Shared<Lease>;
  /** How the watches stand (the process's Informers); without it the Lease watch is never down. */
  watches?: Readonly<{ onHealth(fn: (h: WatchHealth) => void): void }> | undefined;
}>;

type Part = "clusters" | "titles" | "placements" | "health";

export type FeedOptions = Readonly<{
  /**
   * The master link keys: each cluster's links are signed with its keys derived from them (the ones
   * its edge checks, sign-url.ts deriveLinkKey); a change (a rotation's step) re-derives them all.
   */
  linkKeys: LinkKeySource;
  log: Logger;
  /** How long a burst may last before the refresh; 50 ms. */
  coalesceMs?: number;
  /** The most a server is credited for one outage of the Lease watch: the stale-while-error bound. */
  maxOutageCreditMs?: number | undefined;
  /** Epoch ms; Date.now by default. */
  now?: (() => number) | undefined;
  /**
   * Builds the prefix index off the event loop (index-builder.ts); without it the index is built on
   * this thread, which a full table would block for seconds.
   */
  indexBuilder?: Readonly<{ build(clusters: readonly ClusterView[]): Promise<SteeringIndex> }> | undefined;
}>;

export class SteeringFeed {
  readonly #store: SteeringStore;
  readonly #src: FeedSources;
  readonly #o: FeedOptions;
  readonly #catalogs: RegionCatalogs;
  /** The active Placement each cluster is located with, by "<namespace>/<cluster>". */
  readonly #located = new Map<string, { placement: string; locate: LocateFile }>();
  readonly #dirty = new Set<Part>();
  #pending: NodeJS.Timeout | undefined;
  /** Since when the Lease watch is down, while it is. */
  #leasesDownSince: number | undefined;
  /** The last time the Lease watch was down, once it is back. */
  #outage: Outage | undefined;
  /** The build running in the worker thread, and the clusters to build once it is done (the latest only). */
  #building: Promise<void> | undefined;
  #again: ClusterView[] | undefined;

  constructor(store: SteeringStore, sources: FeedSources, o: FeedOptions) {
    this.#store = store;
    this.#src = sources;
    this.#o = o;
    this.#catalogs = new RegionCatalogs({
      titles: (ns) => sources.titles.list(ns),
      popularities: (ns) => sources.popularities.list(ns),
      revision: () => `${sources.titles.specRevision()}/${sources.popularities.specRevision()}`,
    });
    sources.clusters.onChange(() => this.#schedule("clusters"));
    sources.titles.onChange(() => this.#schedule("titles"));
    sources.popularities.onChange(() => this.#schedule("placements"));
    sources.placements.onChange(() => this.#schedule("placements"));
    sources.leases.onChange(() => this.#schedule("health"));
    o.linkKeys.onChange(() => this.#schedule("clusters"));
    sources.watches?.onHealth((h) => {
      if (h.kind === sources.leases.kind.plural) this.#leaseWatch(h);
    });
  }

  #leaseWatch(h: WatchHealth): void {
    const since = this.#leasesDownSince;
    this.#leasesDownSince = h.downSinceMs;
    if (since === undefined || h.downSinceMs !== undefined || !h.synced) return;
    this.#outage = { fromMs: since, toMs: (this.#o.now ?? Date.now)() };
    this.#refresh(new Set<Part>(["health"]));
  }

  /** Refreshes everything now (once the caches have synced); resolves once the prefix index is in. */
  async refreshAll(): Promise<void> {
    this.#refresh(new Set<Part>(["clusters", "titles", "placements", "health"]));
    await this.#building;
  }

  /** Drops a refresh still waiting for its burst to end. */
  stop(): void {
    clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  #schedule(part: Part): void {
    this.#dirty.add(part);
    this.#pending ??= setTimeout(() => {
      this.#pending = undefined;
      const todo = new Set(this.#dirty);
      this.#dirty.clear();
      this.#refresh(todo);
    }, this.#o.coalesceMs ?? 50);
  }

  #refresh(todo: ReadonlySet<Part>): void {
    try {
      if (todo.has("clusters")) this.#refreshClusters();
      if (todo.has("titles")) this.#refreshTitles();
      if (todo.has("clusters") || todo.has("titles") || todo.has("placements")) this.#refreshPlacements();
      if (todo.has("clusters") || todo.has("health")) this.#refreshHealth();
    } catch (err) {
      this.#o.log.error({ err }, "steering refresh failed");
    }
  }

  #refreshClusters(): void {
    const cs = this.#src.clusters.list();
    const views = cs.map(clusterView);
    if (this.#o.indexBuilder === undefined) {
      try {
        this.#store.setClusters(views);
      } catch (err) {
        this.#o.log.error({ err }, "cluster announcements rejected; keeping the previous prefix table");
      }
    } else this.#rebuild(this.#o.indexBuilder, views);
    this.#store.setLinkKeys(clusterLinkKeys(cs, this.#o.linkKeys.current()));
  }

  /**
   * One build at a time in the worker thread; changes arriving meanwhile are built next, only the latest.
   * Until the new index is in, requests are answered from the old one.
   */
  #rebuild(builder: NonNullable<FeedOptions["indexBuilder"]>, views: ClusterView[]): void {
    if (this.#building !== undefined) {
      this.#again = views;
      return;
    }
    this.#building = (async () => {
      for (let next: ClusterView[] | undefined = views; next !== undefined; next = this.#again) {
        this.#again = undefined;
        const t0 = performance.now();
        try {
          this.#store.setIndex(await builder.build(next));
          this.#o.log.info(
            { clusters: next.length, ms: Math.round(performance.now() - t0) },
            "prefix index swapped in",
          );
        } catch (err) {
          this.#o.log.error({ err }, "cluster announcements rejected; keeping the previous prefix table");
        }
      }
    })().finally(() => {
      this.#building = undefined;
    });
  }

  #refreshTitles(): void {
    this.#store.setTitles(
      this.#src.titles.list().map((t) => titleView(t.spec, t.status?.ladder ?? buildLadder(t.spec.files))),
    );
  }

  #refreshPlacements(): void {
    const placements = this.#src.placements.list();
    for (const c of this.#src.clusters.list()) {
      const ns = c.metadata.namespace;
      const key = `${ns}/${c.metadata.name}`;
      const active = placements
        .filter(
          (p) => p.metadata.namespace === ns && p.spec.cluster === c.metadata.name && p.status?.phase === "Active",
        )
        .sort(byAge)
        .at(-1);
      if (!active) {
        this.#located.delete(key);
        this.#store.setActivePlacement(c.metadata.name, undefined);
        continue;
      }
      if (this.#located.get(key)?.placement === active.metadata.name) continue;
      const locate = this.#locator(c, active);
      this.#located.set(key, { placement: active.metadata.name, locate });
      this.#store.setActivePlacement(c.metadata.name, locate);
    }
  }

  /** Which server holds a file: the active ring assigned over the region's catalog. */
  #locator(c: OCACluster, active: Placement): LocateFile {
    const catalog = this.#catalogs.get(c.metadata.namespace ?? "", c.spec.region);
    if (catalog.generation !== active.spec.catalogGeneration) {
      this.#o.log.warn(
        { cluster: `${c.metadata.namespace}/${c.metadata.name}`, placement: active.metadata.name },
        "catalog moved on since this placement; locating over the current catalog",
      );
    }
    const assignment = assign(active.spec, catalog.files, serversOf(c.spec));
    // Paths are unique within a region's catalog (catalog/titles.ts leaves the later of two Titles out).
    const keyOf = new Map(catalog.files.map((f) => [f.key.slice(f.key.indexOf("/") + 1), f.key]));
    return (path) => {
      const k = keyOf.get(path);
      return k === undefined ? [] : assignment.holdersOf(k);
    };
  }

  /**
   * Each server is live for its own lease duration after this process saw its Lease renewed; only the
   * servers in their cluster's spec count (a Lease left by a removed server keeps nothing live). Load
   * sums every heartbeat of the cluster over its servers' throughput.
   */
  #refreshHealth(): void {
    const specs = new Map(this.#src.clusters.list().map((c) => [c.metadata.name, c.spec]));
    const byCluster = new Map<string, ClusterBeats>();
    for (const { value, observedAt } of this.#src.leases.entries()) {
      const hb = value?.heartbeat;
      if (!hb) continue;
      const cur = byCluster.get(hb.cluster) ?? { servers: new Map(), kids: new Map(), bitsPerSec: 0 };
      byCluster.set(hb.cluster, cur);
      cur.bitsPerSec += (hb.load?.bytesPerSec ?? 0) * 8;
      const expiry = expiryAfterOutage(
        heartbeatExpiry(hb, observedAt),
        observedAt,
        this.#outage,
        this.#o.maxOutageCreditMs ?? Number.POSITIVE_INFINITY,
      );
      if (expiry > (cur.servers.get(hb.server) ?? Number.NEGATIVE_INFINITY)) {
        cur.servers.set(hb.server, expiry);
        cur.kids.set(hb.server, hb.linkKids);
      }
    }
    const nowMs = (this.#o.now ?? Date.now)();
    const healths = new Map<string, ClusterHealth>();
    for (const [cluster, h] of byCluster) {
      const spec = specs.get(cluster);
      const cap = spec === undefined ? 0 : serversOf(spec).reduce((a, s) => a + s.throughputBitsPerSec, 0);
      if (spec === undefined || !cap) continue;
      const inSpec = new Set(spec.servers.map((s) => s.name));
      const servers = new Map([...h.servers].filter(([name]) => inSpec.has(name)));
      const load = Math.min(1, h.bitsPerSec / cap);
      healths.set(cluster, clusterHealth({ servers, load, linkKids: kidsOfLive(servers, h.kids, nowMs) }));
    }
    this.#store.recordHeartbeats(healths);
  }
}

/** One cluster's heartbeats as the refresh gathers them: expiry and reported kids per server, the load. */
type ClusterBeats = {
  servers: Map<string, number>;
  kids: Map<string, readonly string[] | undefined>;
  bitsPerSec: number;
};

/**
 * The kids every server live at `nowMs` that reports them holds; undefined when none of them reports.
 * A server that stopped beating is left out: its last word on its keys would hold a rotation back.
 */
export function kidsOfLive(
  expiries: ReadonlyMap<string, number>,
  kids: ReadonlyMap<string, readonly string[] | undefined>,
  nowMs: number,
): ReadonlySet<string> | undefined {
  let common: Set<string> | undefined;
  for (const [server, expiry] of expiries) {
    const held = kids.get(server);
    if (held === undefined || isStale(expiry, nowMs)) continue;
    common = new Set(common === undefined ? held : held.filter((k) => common?.has(k)));
  }
  return common;
}

/** Each cluster's link keys, derived for it (namespace and name) from the masters; none without masters. */
function clusterLinkKeys(cs: readonly OCACluster[], masters: LinkKeyring | undefined): Map<string, LinkKeyring> {
  const out = new Map<string, LinkKeyring>();
  if (masters === undefined) return out;
  for (const c of cs) out.set(c.metadata.name, clusterKeyring(masters, c.metadata.namespace ?? "", c.metadata.name));
  return out;
}

/** A Title as steering sees it: its ladder, each rung with its file's bytes, and its duration (the chunk index). */
function titleView(spec: TitleSpec, ladder: readonly LadderEntry[]): TitleView {
  const bytes = new Map(spec.files.map((f) => [f.path, f.bytes]));
  return {
    id: spec.id,
    durationSeconds: spec.durationSeconds,
    ladder: ladder.map((e) => ({ ...e, rungs: e.rungs.map((r) => ({ ...r, bytes: bytes.get(r.path) })) })),
  };
}

const clusterView = (c: OCACluster): ClusterView => ({
  name: c.metadata.name,
  region: c.spec.region,
  asn: c.spec.site.asn,
  location: c.spec.location,
  servers: c.spec.servers,
  prefixes: c.spec.prefixes,
  httpsPort: c.spec.edge.httpsPort,
});
