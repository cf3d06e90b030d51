import { InvalidAddressError, parseCidr, wordMask } from "./ip.js";
import { Ipv4PrefixTable, Ipv6PrefixTable } from "./prefix-table.js";
import type { ClusterView } from "./snapshot.js";

/** Thrown when a cluster view breaks a rule; the message names the field. */
export class SteeringInputError extends Error {
  override name = "SteeringInputError";
}

/**
 * Words per announcement, in `PackedAnnouncements.attrs` and `RouteTable.ann`: its cluster (index in
 * the sorted clusters), its index in that cluster's `prefixes` (for its text and for errors), local
 * preference, AS path length, neighbour AS (first AS of the path, or the site's own peer AS for an empty
 * path: MEDs compare only within it) and MED.
 */
export const ATTRS = 6;
export const A_CLUSTER = 0;
export const A_PREFIX = 1;
export const A_LOCAL_PREF = 2;
export const A_PATH_LENGTH = 3;
export const A_NEIGHBOUR_AS = 4;
export const A_MED = 5;

/**
 * The distinct prefixes of one family, as parallel typed arrays (a million route objects cost ~500 MB
 * and cannot cross threads cheaply; these are ~30 bytes a route and move without a copy). Route `r` has
 * prefix length `length[r]`, its nearest containing route `parent[r]` (-1: none), and the announcements
 * `first[r]` to `first[r + 1]` (ATTRS words each in `ann`).
 */
export type RouteTable = Readonly<{
  count: number;
  length: Uint8Array;
  parent: Int32Array;
  first: Uint32Array;
  ann: Uint32Array;
}>;

/**
 * The immutable product of all clusters' announcements. A new one is built whenever clusters change
 * (index-builder.ts: in a worker thread) and swapped in whole, so lookups never see a partial update.
 * Health is not part of it: heartbeats arrive every few seconds and must not rebuild tables.
 */
export type SteeringIndex = Readonly<{
  /** Sorted by name, so that ties and output order never depend on informer order. */
  clusters: readonly ClusterView[];
  v4: Ipv4PrefixTable;
  v6: Ipv6PrefixTable;
  routes4: RouteTable;
  routes6: RouteTable;
}>;

/** What a build needs, in a form that crosses to a worker thread cheaply: one string and one typed array. */
export type PackedAnnouncements = Readonly<{
  /** The clusters' names, sorted (the cluster index of `attrs`); for error messages. */
  names: readonly string[];
  /** Every announcement's CIDR text, one a line, in `attrs` order. */
  cidrs: string;
  attrs: Uint32Array;
}>;

/** What the build makes: typed arrays only, transferable between threads. */
export type IndexParts = Readonly<{ v4: Uint32Array; v6: Uint32Array; routes4: RouteTable; routes6: RouteTable }>;

const byName = (a: ClusterView, b: ClusterView) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The clusters sorted by name; throws SteeringInputError on a duplicate name. */
export function sortClusters(input: readonly ClusterView[]): ClusterView[] {
  const clusters = [...input].sort(byName);
  for (let i = 1; i < clusters.length; i++) {
    if (clusters[i - 1]?.name === clusters[i]?.name) {
      throw new SteeringInputError(`clusters: duplicate name "${clusters[i]?.name}"`);
    }
  }
  return clusters;
}

/**
 * Packs sorted clusters' announcements, one cluster per call of `step` (the caller may yield between
 * them: a full table is a million announcements). Returns the packing once every cluster is in.
 */
export function* packAnnouncements(clusters: readonly ClusterView[]): Generator<void, PackedAnnouncements> {
  const total = clusters.reduce((n, c) => n + c.prefixes.length, 0);
  const attrs = new Uint32Array(total * ATTRS);
  const texts: string[] = [];
  let o = 0;
  // Indexed loops, no iterators or destructuring: this runs on the event loop, a million times for a
  // full table, and every small allocation here is garbage the service's large heap has to mark.
  for (let ci = 0; ci < clusters.length; ci++) {
    const c = clusters[ci];
    if (c === undefined) continue;
    const ps = c.prefixes;
    const lines: string[] = new Array(ps.length);
    for (let pi = 0; pi < ps.length; pi++) {
      const p = ps[pi];
      if (p === undefined) continue;
      lines[pi] = p.cidr;
      attrs[o + A_CLUSTER] = ci;
      attrs[o + A_PREFIX] = pi;
      attrs[o + A_LOCAL_PREF] = p.localPref;
      attrs[o + A_PATH_LENGTH] = p.asPath.length;
      attrs[o + A_NEIGHBOUR_AS] = p.asPath[0] ?? c.asn;
      attrs[o + A_MED] = p.med;
      o += ATTRS;
    }
    if (ps.length > 0) texts.push(lines.join("\n"));
    yield;
  }
  return { names: clusters.map((c) => c.name), cidrs: texts.join("\n"), attrs };
}

/** Parsed announcements of one family: `words` holds `wpk` words per announcement. */
type Parsed = { wpk: 1 | 4; idx: number[]; words: Uint32Array; length: Uint8Array };

/**
 * The heavy part, pure and on typed arrays (what the worker thread runs): parses every CIDR, sorts
 * announcements by (address, length, cluster), merges equal prefixes into routes, links each route to
 * its nearest containing one, and builds both tries. Throws SteeringInputError naming the field.
 */
export function buildIndexParts(p: PackedAnnouncements): IndexParts {
  const n = p.attrs.length / ATTRS;
  const lines = n === 0 ? [] : p.cidrs.split("\n");
  const v4: Parsed = { wpk: 1, idx: [], words: new Uint32Array(n), length: new Uint8Array(n) };
  const v6: Parsed = { wpk: 4, idx: [], words: new Uint32Array(n * 4), length: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    let cidr: ReturnType<typeof parseCidr>;
    try {
      cidr = parseCidr(lines[i] ?? "");
    } catch (err) {
      // The field name is only built on failure: a full table has a million announcements.
      if (err instanceof InvalidAddressError)
        throw new SteeringInputError(`${field(p, i)}.${err.message}`, { cause: err });
      throw err;
    }
    const f = cidr.address.family === 4 ? v4 : v6;
    f.idx.push(i);
    f.words.set(cidr.address.words, i * f.wpk);
    f.length[i] = cidr.length;
  }
  const r4 = routesOf(p, lines, v4);
  const r6 = routesOf(p, lines, v6);
  return {
    v4: Ipv4PrefixTable.build(r4.list).nodes,
    v6: Ipv6PrefixTable.build(r6.list).nodes,
    routes4: r4.table,
    routes6: r6.table,
  };
}

const field = (p: PackedAnnouncements, i: number) =>
  `clusters[${p.names[p.attrs[i * ATTRS + A_CLUSTER] ?? 0]}].prefixes[${p.attrs[i * ATTRS + A_PREFIX]}]`;

/** Orders announcements by address, then length, then cluster: equal prefixes end up side by side. */
function compareBy(f: Parsed, attrs: Uint32Array) {
  const { wpk, words, length } = f;
  return (a: number, b: number): number => {
    for (let w = 0; w < wpk; w++) {
      const d = (words[a * wpk + w] ?? 0) - (words[b * wpk + w] ?? 0);
      if (d !== 0) return d;
    }
    return (
      (length[a] ?? 0) - (length[b] ?? 0) || (attrs[a * ATTRS + A_CLUSTER] ?? 0) - (attrs[b * ATTRS + A_CLUSTER] ?? 0)
    );
  };
}

/**
 * Sorting a million indices costs less than hashing a million string keys, and the order is the one
 * the parent links need: every prefix follows the prefixes containing it, so a stack of the open
 * ancestors gives each its nearest one.
 */
function routesOf(p: PackedAnnouncements, texts: readonly string[], f: Parsed) {
  const sorted = Uint32Array.from(f.idx).sort(compareBy(f, p.attrs));
  const { wpk, words, length } = f;
  const m = sorted.length;
  const keys = new Uint32Array(m * wpk);
  const lengths = new Uint8Array(m);
  const first = new Uint32Array(m + 1);
  const ann = new Uint32Array(m * ATTRS);
  let routes = 0;
  let prev = -1;
  for (let k = 0; k < m; k++) {
    const i = sorted[k] ?? 0;
    const same = prev >= 0 && samePrefix(f, prev, i);
    if (same && p.attrs[prev * ATTRS + A_CLUSTER] === p.attrs[i * ATTRS + A_CLUSTER]) {
      const later = (p.attrs[prev * ATTRS + A_PREFIX] ?? 0) > (p.attrs[i * ATTRS + A_PREFIX] ?? 0) ? prev : i;
      const name = p.names[p.attrs[i * ATTRS + A_CLUSTER] ?? 0];
      throw new SteeringInputError(`${field(p, later)}.cidr: "${texts[later]}" is announced twice to cluster ${name}`);
    }
    if (!same) {
      keys.set(words.subarray(i * wpk, i * wpk + wpk), routes * wpk);
      lengths[routes] = length[i] ?? 0;
      first[routes] = k;
      routes++;
    }
    ann.set(p.attrs.subarray(i * ATTRS, i * ATTRS + ATTRS), k * ATTRS);
    prev = i;
  }
  first[routes] = m;
  const parent = linkParents(wpk, keys, lengths, routes);
  const values = new Uint32Array(routes);
  for (let r = 0; r < routes; r++) values[r] = r;
  return {
    list: { wordsPerKey: wpk, keys: keys.slice(0, routes * wpk), lengths: lengths.slice(0, routes), values },
    table: {
      count: routes,
      length: lengths.slice(0, routes),
      parent,
      first: first.slice(0, routes + 1),
      ann,
    },
  };
}

function samePrefix(f: Parsed, a: number, b: number): boolean {
  if (f.length[a] !== f.length[b]) return false;
  for (let w = 0; w < f.wpk; w++) if (f.words[a * f.wpk + w] !== f.words[b * f.wpk + w]) return false;
  return true;
}

/** Whether route `outer` contains route `inner` (routes sorted by address then length). */
function contains(wpk: number, keys: Uint32Array, lengths: Uint8Array, outer: number, inner: number): boolean {
  const len = lengths[outer] ?? 0;
  if (len > (lengths[inner] ?? 0)) return false;
  for (let w = 0; w < wpk; w++) {
    if (((keys[inner * wpk + w] ?? 0) & wordMask(len - 32 * w)) >>> 0 !== (keys[outer * wpk + w] ?? 0)) return false;
  }
  return true;
}

function linkParents(wpk: number, keys: Uint32Array, lengths: Uint8Array, routes: number): Int32Array {
  const parent = new Int32Array(routes);
  const stack: number[] = [];
  for (let r = 0; r < routes; r++) {
    while (stack.length > 0 && !contains(wpk, keys, lengths, stack[stack.length - 1] ?? 0, r)) stack.pop();
    parent[r] = stack[stack.length - 1] ?? -1;
    stack.push(r);
  }
  return parent;
}

/** The index from sorted clusters and the parts built from their announcements. */
export function assembleIndex(clusters: readonly ClusterView[], parts: IndexParts): SteeringIndex {
  return {
    clusters,
    v4: Ipv4PrefixTable.fromNodes(parts.v4),
    v6: Ipv6PrefixTable.fromNodes(parts.v6),
    routes4: parts.routes4,
    routes6: parts.routes6,
  };
}

/**
 * Builds the index on the calling thread: small fleets and tests. The service builds in a worker
 * thread (index-builder.ts), so a full table never holds answers up.
 */
export function buildSteeringIndex(input: readonly ClusterView[]): SteeringIndex {
  const clusters = sortClusters(input);
  const pack = packAnnouncements(clusters);
  let step = pack.next();
  while (step.done !== true) step = pack.next();
  return assembleIndex(clusters, buildIndexParts(step.value));
}
