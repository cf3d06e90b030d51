import { type Cidr, cidrContains, InvalidAddressError, type IpAddress, parseCidr } from "./ip.js";
import { toPrefixList } from "./prefix-list.js";
import { Ipv4PrefixTable, Ipv6PrefixTable } from "./prefix-table.js";
import type { ClusterView } from "./snapshot.js";

/** Thrown when a cluster view breaks a rule; the message names the field. */
export class SteeringInputError extends Error {
  override name = "SteeringInputError";
}

/** One cluster's announcement of a route, with what ranking compares. */
export type RouteAnnouncement = Readonly<{
  cluster: number;
  localPref: number;
  asPathLength: number;
  /** First AS of the path, or the site's own peer AS for an empty path: MEDs compare only within it. */
  neighbourAs: number;
  med: number;
  cidr: string;
}>;

/** A distinct prefix announced by one or more clusters; `parent` is the longest route containing it. */
export type Route = Readonly<{ length: number; parent: number; announcements: readonly RouteAnnouncement[] }>;

/**
 * The immutable product of all clusters' announcements. A new one is built whenever clusters change
 * and swapped in whole, so lookups never see a partial update. Health is not part of it: heartbeats
 * arrive every few seconds and must not rebuild tables.
 */
export type SteeringIndex = Readonly<{
  /** Sorted by name, so that ties and output order never depend on informer order. */
  clusters: readonly ClusterView[];
  v4: Ipv4PrefixTable;
  v6: Ipv6PrefixTable;
  routes4: readonly Route[];
  routes6: readonly Route[];
}>;

type Pending = { cidr: Cidr; announcements: RouteAnnouncement[] };
type Entry = { cidr: Cidr; announcement: RouteAnnouncement; index: number };

const compareCidr = (a: Cidr, b: Cidr) => compareAddress(a.address, b.address) || a.length - b.length;

/**
 * Sorts announcements by (address, length) and merges equal prefixes: sorting a million entries
 * costs less than hashing a million string keys, and the order is the one linkParents needs.
 */
function group(entries: Entry[], clusters: readonly ClusterView[]): Pending[] {
  entries.sort((a, b) => compareCidr(a.cidr, b.cidr) || a.announcement.cluster - b.announcement.cluster);
  const out: Pending[] = [];
  let last: Pending | undefined;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (last !== undefined && compareCidr(last.cidr, e.cidr) === 0) {
      if (prev?.announcement.cluster === e.announcement.cluster) {
        const name = clusters[e.announcement.cluster]?.name;
        throw new SteeringInputError(
          `clusters[${name}].prefixes[${Math.max(prev.index, e.index)}].cidr: "${e.announcement.cidr}" is announced twice to cluster ${name}`,
        );
      }
      last.announcements.push(e.announcement);
    } else {
      last = { cidr: e.cidr, announcements: [e.announcement] };
      out.push(last);
    }
    prev = e;
  }
  return out;
}

export function buildSteeringIndex(input: readonly ClusterView[]): SteeringIndex {
  const clusters = [...input].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const entries: Entry[] = [];
  for (const [ci, c] of clusters.entries()) {
    if (ci > 0 && clusters[ci - 1]?.name === c.name) {
      throw new SteeringInputError(`clusters: duplicate name "${c.name}"`);
    }
    for (const [pi, p] of c.prefixes.entries()) {
      let cidr: Cidr;
      try {
        cidr = parseCidr(p.cidr);
      } catch (err) {
        // The field name is only built on failure: a full table has a million announcements.
        if (err instanceof InvalidAddressError) {
          throw new SteeringInputError(`clusters[${c.name}].prefixes[${pi}].${err.message}`, { cause: err });
        }
        throw err;
      }
      const announcement = {
        cluster: ci,
        localPref: p.localPref,
        asPathLength: p.asPath.length,
        neighbourAs: p.asPath[0] ?? c.asn,
        med: p.med,
        cidr: p.cidr,
      };
      entries.push({ cidr, announcement, index: pi });
    }
  }
  const v4 = linkParents(
    group(
      entries.filter((e) => e.cidr.address.family === 4),
      clusters,
    ),
  );
  const v6 = linkParents(
    group(
      entries.filter((e) => e.cidr.address.family === 6),
      clusters,
    ),
  );
  const values = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    clusters,
    v4: Ipv4PrefixTable.build(
      toPrefixList(
        4,
        v4.map((p) => p.cidr),
        values(v4.length),
      ),
    ),
    v6: Ipv6PrefixTable.build(
      toPrefixList(
        6,
        v6.map((p) => p.cidr),
        values(v6.length),
      ),
    ),
    routes4: v4.map((p) => p.route),
    routes6: v6.map((p) => p.route),
  };
}

function compareAddress(a: IpAddress, b: IpAddress): number {
  for (let i = 0; i < a.words.length; i++) {
    const d = (a.words[i] ?? 0) - (b.words[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.length <= inner.length && cidrContains(outer, inner.address);
}

/**
 * Sorted by address then length (as `group` leaves them), every prefix follows the prefixes
 * containing it, so a stack of the open ancestors gives each prefix its nearest one.
 */
function linkParents(sorted: Pending[]): { cidr: Cidr; route: Route }[] {
  const stack: number[] = [];
  return sorted.map((p, i) => {
    while (stack.length > 0) {
      const top = sorted[stack[stack.length - 1] ?? 0];
      if (top !== undefined && contains(top.cidr, p.cidr)) break;
      stack.pop();
    }
    const parent = stack[stack.length - 1] ?? -1;
    stack.push(i);
    return { cidr: p.cidr, route: { length: p.cidr.length, parent, announcements: p.announcements } };
  });
}
