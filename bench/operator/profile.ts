/**
 * A V8 CPU profile (node --cpu-prof) summed up: how much of the wall time the process was idle
 * (waiting on the API server), and where its busy time went, by source file and by function (self
 * time), and by the operator's own entry points (inclusive time).
 */
import { readFileSync } from "node:fs";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type ProfileSummary = Readonly<{
  wallS: number;
  idleS: number;
  gcS: number;
  /** Self seconds by source file (the repo's relative path, node:… or a package), largest first. */
  byFile: [string, number][];
  bySelf: [string, number][];
  /** Inclusive seconds of functions in the repo's own files, largest first. */
  inclusive: [string, number][];
}>;

const s = (us: number) => Math.round(us / 1e4) / 100;

export function summarizeProfile(path: string, repoRoot: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const file = (url: string) =>
    url.startsWith("file://")
      ? url.replace(`file://${repoRoot}/`, "").replace(/.*node_modules\//, "npm:")
      : url || "(native)";
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${file(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const byFile = new Map<string, number>();
  const bySelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (!n) continue;
    if (n.callFrame.functionName === "(idle)") idle += t;
    if (n.callFrame.functionName === "(garbage collector)") gc += t;
    add(byFile, n.callFrame.url ? file(n.callFrame.url) : n.callFrame.functionName, t);
    add(bySelf, label(n), t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur);
      if (!c?.callFrame.url.startsWith(`file://${repoRoot}/`) || c.callFrame.url.includes("node_modules")) continue;
      const k = label(c);
      if (!seen.has(k)) add(inclusive, k, t);
      seen.add(k);
    }
  }
  const rank = (m: Map<string, number>, skip: Set<string>) =>
    [...m]
      .filter(([k]) => !skip.has(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]): [string, number] => [k, s(v)]);
  const skip = new Set(["(idle)", "(idle) (native):0"]);
  return {
    wallS: s(p.endTime - p.startTime),
    idleS: s(idle),
    gcS: s(gc),
    byFile: rank(byFile, skip),
    bySelf: rank(bySelf, new Set([...skip, "(idle) (native):1"])),
    inclusive: rank(inclusive, skip),
  };
}
