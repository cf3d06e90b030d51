import type { LinkKeyring } from "./link-keys.js";
import type { ClusterHealth, ClusterView, LocateFile, TitleView } from "./snapshot.js";
import { buildSteeringIndex, type SteeringIndex } from "./steering-index.js";

/** Everything one request reads; taken once per request so a request never mixes two updates. */
export type SteeringState = Readonly<{
  /**
   * Bumped by every change except heartbeats. A manifest depends on the generation, and on which of
   * its clusters' servers are live at the request's time (liveness.ts `liveSetKey`), not on the
   * heartbeats' expiries themselves: renewals leave manifests as they were.
   */
  generation: number;
  index: SteeringIndex;
  /** Per cluster name, its servers' heartbeat expiries; a cluster without an entry has no live server. */
  health: ReadonlyMap<string, ClusterHealth>;
  titles: ReadonlyMap<string, TitleView>;
  placements: ReadonlyMap<string, LocateFile>;
  /** Per cluster name, its link keys (derived for it from the masters) and the primary kid. */
  linkKeys: ReadonlyMap<string, LinkKeyring>;
}>;

/**
 * The steering service's view of the fleet, fed by the lead's informers. Every update replaces the
 * state object (copy on write), so a request that took `state` keeps a consistent one. Clusters
 * rebuild the prefix tables; heartbeats only replace the health map (each cluster's ClusterHealth,
 * with its servers' expiries, is immutable and replaced whole).
 */
export class SteeringStore {
  #state: SteeringState;

  constructor() {
    this.#state = {
      generation: 0,
      index: buildSteeringIndex([]),
      health: new Map(),
      titles: new Map(),
      placements: new Map(),
      linkKeys: new Map(),
    };
  }

  get state(): SteeringState {
    return this.#state;
  }

  /**
   * All clusters at once (the informer's list), built on this thread; throws SteeringInputError and keeps
   * the old index on bad input. The service builds in a worker thread instead (index-builder.ts) and
   * swaps the result in with `setIndex`.
   */
  setClusters(clusters: readonly ClusterView[]): void {
    this.setIndex(buildSteeringIndex(clusters));
  }

  /** Swaps in a whole new index: a request that took the state before keeps the old one. */
  setIndex(index: SteeringIndex): void {
    this.#state = { ...this.#state, generation: this.#state.generation + 1, index };
  }

  recordHeartbeat(cluster: string, health: ClusterHealth): void {
    this.recordHeartbeats(new Map([[cluster, health]]));
  }

  /**
   * Several clusters' heartbeats in one copy (a refresh covers every cluster); clusters not named keep
   * theirs. Leaves `generation` alone, so manifest caches stay (see SteeringState.generation).
   */
  recordHeartbeats(healths: ReadonlyMap<string, ClusterHealth>): void {
    const health = new Map(this.#state.health);
    for (const [cluster, h] of healths) health.set(cluster, h);
    this.#state = { ...this.#state, health };
  }

  /** The whole catalog at once: one copy instead of one per title on an informer's initial list. */
  setTitles(titles: readonly TitleView[]): void {
    this.#state = {
      ...this.#state,
      generation: this.#state.generation + 1,
      titles: new Map(titles.map((t) => [t.id, t])),
    };
  }

  setTitle(title: TitleView): void {
    this.#state = {
      ...this.#state,
      generation: this.#state.generation + 1,
      titles: new Map(this.#state.titles).set(title.id, title),
    };
  }

  deleteTitle(id: string): void {
    const titles = new Map(this.#state.titles);
    titles.delete(id);
    this.#state = { ...this.#state, generation: this.#state.generation + 1, titles };
  }

  /** The cluster's ACTIVE placement (undefined: none, so the cluster offers no file). */
  setActivePlacement(cluster: string, locate: LocateFile | undefined): void {
    const placements = new Map(this.#state.placements);
    if (locate === undefined) placements.delete(cluster);
    else placements.set(cluster, locate);
    this.#state = { ...this.#state, generation: this.#state.generation + 1, placements };
  }

  /** Every cluster's link keys at once (a cluster missing offers nothing): one copy, one new generation. */
  setLinkKeys(linkKeys: ReadonlyMap<string, LinkKeyring>): void {
    this.#state = { ...this.#state, generation: this.#state.generation + 1, linkKeys };
  }
}
