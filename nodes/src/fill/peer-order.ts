/**
 * Which peers a fill asks for each file, best first (DESIGN decision 3: peer → origin). Pure: the
 * holders come in, the order comes out.
 *
 * A new Placement makes a server fetch exactly the files it did not hold before, so the servers that
 * hold them NOW (under the cluster's Active placement, the one steering serves from) come first; then
 * the file's other holders under the new Placement, which may have filled it already; the origin is
 * the caller's last resort. Both lists are guesses: a peer without the file answers 404 and the fetch
 * moves on to the next source.
 *
 * ❌ `next.holdersOf(key).filter((n) => n !== server)`: a file moving from A to B never asks A, so B
 *    takes from the origin what a peer had on its disk.
 * ✅ `orderPeers(server, keys, next, active)`: A first, then B's fellow holders under the new Placement.
 */

/** Who holds a catalog key: an Assignment (placement/assignment.ts) has this shape. */
export type Holders = Readonly<{ holdersOf(key: string): readonly string[] }>;

/**
 * Catalog key → peer names to ask, in order: `active`'s holders of the key, then `next`'s, each name
 * once and never `server` itself. Without `active` (the site's first fill, or the Active placement is
 * the one being filled) only `next`'s holders.
 */
export function orderPeers(
  server: string,
  keys: readonly string[],
  next: Holders,
  active: Holders | undefined,
): Map<string, string[]> {
  const order = new Map<string, string[]>();
  for (const key of keys) {
    const names = [...(active?.holdersOf(key) ?? []), ...next.holdersOf(key)].filter((n) => n !== server);
    order.set(key, [...new Set(names)]);
  }
  return order;
}
