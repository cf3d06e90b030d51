import { keyPosition } from "./hash.js";
import { Ring } from "./ring.js";
import type { Plan } from "./types.js";

/**
 * Where a key may sit under a plan whatever the catalog was: the first `perRing` distinct servers
 * clockwise from the key's position on the plan's head ring and on its tail ring. assign() puts a
 * file on one of the two rings (by popularity rank, which an older catalog may have ranked otherwise)
 * and walks clockwise from that position to the first server with room, so the server holding it is
 * almost always among these few. The fill asks them when a file moves (a wrong guess is one 404).
 */
export function ringNeighbours(plan: Pick<Plan, "servers">, perRing: number): (key: string) => string[] {
  // The order assign() builds its rings in (canonicalServers: by name).
  const names = plan.servers.map((s) => s.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tokens = new Map(plan.servers.map((s) => [s.name, s]));
  const rings = [
    Ring.build(
      names,
      names.map((n) => tokens.get(n)?.headTokens ?? 0),
    ),
    Ring.build(
      names,
      names.map((n) => tokens.get(n)?.tailTokens ?? 0),
    ),
  ].filter((r) => r.size > 0);
  return (key) => {
    const pos = keyPosition(key);
    const found: string[] = [];
    for (const ring of rings) {
      const mine = new Set<number>();
      let slot = ring.slot(pos);
      for (let step = 0; step < ring.size && mine.size < perRing; step++, slot = ring.next(slot)) {
        const j = ring.owner(slot);
        if (mine.has(j)) continue;
        mine.add(j);
        const name = names[j] ?? "";
        if (!found.includes(name)) found.push(name);
      }
    }
    return found;
  };
}
