import type { Assignment } from "./assignment.js";

/**
 * Bytes servers must fetch to go from one assignment to the next, per server and by cause:
 * - `servers`: the file lands on a server that was not there before, or left a server that is gone;
 * - `cutoff`: the file crossed the head/tail cutoff (it changes rings);
 * - `drift`: everything else: popularity changes, new releases, weight changes and the spills they cause.
 * Files are matched by key and servers by name, so the catalogs and server lists may differ.
 */
export type Churn = Readonly<{
  totalBytes: number;
  /** Files fetched onto at least one server. */
  files: number;
  /** Indexed like `after.servers`. */
  perServer: Float64Array;
  byCause: Readonly<{ drift: number; cutoff: number; servers: number }>;
}>;

export function churn(before: Assignment, after: Assignment): Churn {
  const rank = new Map<string, number>();
  before.catalog.forEach((f, i) => {
    rank.set(f.key, i);
  });
  const beforeIndex = new Map(before.servers.map((s, j) => [s, j]));
  const afterNames = new Set(after.servers);
  // Index in `before` of each server of `after`, -1 for a new server.
  const old = Int32Array.from(after.servers, (s) => beforeIndex.get(s) ?? -1);
  const gone = Uint8Array.from(before.servers, (s) => (afterNames.has(s) ? 0 : 1));
  const perServer = new Float64Array(after.servers.length);
  let drift = 0;
  let cutoff = 0;
  let servers = 0;
  let files = 0;
  for (let i = 0; i < after.catalog.length; i++) {
    const f = after.catalog[i];
    if (f === undefined) break;
    const now = after.holdersAt(i);
    if (now.length === 0) continue;
    const r = rank.get(f.key);
    const was = r === undefined ? new Int32Array(0) : before.holdersAt(r);
    const lostServer = was.some((j) => gone[j] === 1);
    const crossed = r !== undefined && r < before.cutoff !== i < after.cutoff;
    let fetched = false;
    for (const j of now) {
      const o = old[j] ?? -1;
      if (o >= 0 && was.includes(o)) continue;
      fetched = true;
      perServer[j] = (perServer[j] ?? 0) + f.bytes;
      if (o < 0 || lostServer) servers += f.bytes;
      else if (crossed) cutoff += f.bytes;
      else drift += f.bytes;
    }
    if (fetched) files++;
  }
  return { totalBytes: drift + cutoff + servers, files, perServer, byCause: { drift, cutoff, servers } };
}
