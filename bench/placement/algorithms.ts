import {
  type Assignment,
  AssignmentBuilder,
  assign,
  type CatalogFile,
  canonicalServers,
  HCA,
  keyPosition,
  type Plan,
  planHca,
  Ring,
  replicaPosition,
  ringAssign,
  type Server,
  serverSeed,
  storedSet,
  UNIFORM_TOKENS,
} from "../../operator/src/placement/index.js";

/** One placement scheme: place a catalog on servers, given what it placed last time (its state). */
export type Algorithm = Readonly<{
  name: string;
  place(catalog: readonly CatalogFile[], servers: readonly Server[], previous: Plan | undefined): Placed;
}>;

/** `trafficBound`: HCA's λ, the least peak any two-ring placement reaches (1 when a cutoff balances traffic). */
export type Placed = Readonly<{ assignment: Assignment; state?: Plan; trafficBound?: number }>;

/** ε of consistent hashing with bounded loads; 0.25 is the usual choice (Vimeo, HAProxy's 125%). */
const CHBL_EPSILON = 0.25;

const uniformRing: Algorithm = {
  name: "uniform-ring",
  place: (catalog, servers) => ({ assignment: ringAssign(catalog, servers, () => UNIFORM_TOKENS) }),
};

const storageRing: Algorithm = {
  name: "storage-ring",
  place(catalog, servers) {
    const total = servers.reduce((x, s) => x + s.storageBytes, 0);
    const perStorage = (UNIFORM_TOKENS * servers.length) / total;
    return { assignment: ringAssign(catalog, servers, (s) => Math.max(1, Math.round(perStorage * s.storageBytes))) };
  },
};

/** Weighted rendezvous hashing (weights ∝ storage): the server minimising −ln(u(key, j)) / w_j. */
const rendezvous: Algorithm = {
  name: "weighted-rendezvous",
  place(catalog, servers) {
    const list = canonicalServers(servers);
    const seeds = list.map((s) => serverSeed(s.name)[0]);
    const w = list.map((s) => s.storageBytes);
    const set = storedSet(catalog, list);
    const out = new AssignmentBuilder(catalog.length);
    for (let i = 0; i < set.count; i++) {
      const p = keyPosition(catalog[i]?.key ?? "");
      let best = -1;
      let score = Number.POSITIVE_INFINITY;
      for (let j = 0; j < list.length; j++) {
        const u = (replicaPosition(p, seeds[j] ?? 0) + 0.5) / 2 ** 52;
        const s = -Math.log(u) / (w[j] ?? 1);
        if (s < score) {
          score = s;
          best = j;
        }
      }
      out.push(best);
      out.next();
    }
    return { assignment: out.build(list, catalog, set.count, 0) };
  },
};

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018) on the uniform ring:
 * a file goes to the first server clockwise whose bytes stay within (1 + ε) × the mean, and within
 * its storage; when none has room, to the first with storage room (so it never leaves a hole
 * while the cluster has room).
 */
const boundedLoads: Algorithm = {
  name: "ch-bounded-loads",
  place(catalog, servers) {
    const list = canonicalServers(servers);
    const ring = Ring.build(
      list.map((s) => s.name),
      list.map(() => UNIFORM_TOKENS),
    );
    const set = storedSet(catalog, list);
    const bound = ((1 + CHBL_EPSILON) * set.bytes) / list.length;
    const used = new Float64Array(list.length);
    const seen = new Int32Array(list.length).fill(-1);
    const out = new AssignmentBuilder(catalog.length);
    for (let i = 0; i < set.count; i++) {
      const f = catalog[i];
      if (f === undefined) break;
      let slot = ring.slot(keyPosition(f.key));
      let chosen = -1;
      let spare = -1;
      // Stop once every server has been seen: a full lap of the ring adds nothing.
      let distinct = 0;
      for (let step = 0; step < ring.size && chosen < 0 && distinct < list.length; step++, slot = ring.next(slot)) {
        const j = ring.owner(slot);
        if (seen[j] === i) continue;
        seen[j] = i;
        distinct++;
        const after = (used[j] ?? 0) + f.bytes;
        if (after > (list[j]?.storageBytes ?? 0)) continue;
        if (after <= bound) chosen = j;
        else if (spare < 0) spare = j;
      }
      const j = chosen >= 0 ? chosen : spare;
      if (j >= 0) {
        used[j] = (used[j] ?? 0) + f.bytes;
        out.push(j);
      }
      out.next();
    }
    return { assignment: out.build(list, catalog, set.count, 0) };
  },
};

/** HCA; `fillBudgetBytes` is each server's nightly fill budget, which bounds token re-calibration. */
const hca = (fillBudgetBytes: number): Algorithm => ({
  name: "hca",
  place(catalog, servers, previous) {
    const { plan, expectations } = planHca({
      cluster: "bench",
      catalogGeneration: "bench",
      servers,
      catalog,
      previous,
      fillBudgetBytes,
    });
    return { assignment: assign(plan, catalog, servers), state: plan, trafficBound: expectations.trafficBound };
  },
});

export const algorithms = (fillBudgetBytes: number): readonly Algorithm[] => [
  hca(fillBudgetBytes),
  uniformRing,
  storageRing,
  rendezvous,
  boundedLoads,
];

/** The tokens-per-server figure a reader needs to compare the rings. */
export const RING_TOKENS = { baseline: UNIFORM_TOKENS, hca: HCA.tokensPerServer };
