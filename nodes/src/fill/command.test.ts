// fill and evict as the Job runs them, on a real directory with the real lock, the objects read from a
// fake: refusals (no marker, a foreign directory, a Placement not yet Active), the wait for signed URLs
// to expire (a fake clock), and the races: an evict never runs while a fill holds the directory, and
// never removes a file some live Placement names.
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustParse, type OCACluster, type Placement, type Popularity } from "../../../operator/src/api/index.js";
import { sample } from "../../../operator/src/api/testdata/samples.js";
import { type CommandOptions, evictCommand, fillCommand, keepOf } from "./command.js";
import { MARKER, NotContentRootError } from "./content-root.js";
import { partialPath, scanContent } from "./disk.js";
import { keptFiles, type PlacementInputs } from "./from-placement.js";
import { ContentBusyError, lockContent } from "./lock.js";
import { placementFor, popularity, titles } from "./testing.js";

const base = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));
const cluster = (activePlacement?: string): OCACluster => ({
  ...base,
  metadata: { ...base.metadata, namespace: "edge" },
  status: activePlacement ? { activePlacement } : {},
});

const placementWith = (name: string, status: Placement["status"], pop: Popularity = popularity): Placement => ({
  ...placementFor(base, pop, name),
  status,
});

const promoted = "2026-11-26T05:00:00Z";
const active = placementWith("p-active", { phase: "Active", promotedAt: promoted });
/** A Placement of tomorrow's catalog, filling: its files must survive the evict of today's. */
const demand = Object.fromEntries(Object.entries(popularity.spec.demand).map(([t, n], i) => [t, i % 2 ? n * 7 : n]));
const tomorrow = placementWith("p-next", { phase: "Filling" }, { ...popularity, spec: { ...popularity.spec, demand } });

const inputsOf = (placement: Placement, placements: Placement[], c = cluster("p-active")): PlacementInputs => ({
  placement,
  cluster: c,
  active,
  titles,
  popularity,
  placements,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cmd-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function put(root: string, rel: string) {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), rel);
}

/** A content directory holding `files`, marked unless told otherwise. */
async function content(name: string, files: readonly string[], marked = true): Promise<string> {
  const root = join(dir, name);
  for (const f of files) await put(root, f);
  if (marked) await put(root, MARKER);
  return root;
}

function run(inputs: () => PlacementInputs, root: string, over: Partial<CommandOptions> = {}, now = promoted) {
  const slept: number[] = [];
  const o: CommandOptions = {
    ref: { namespace: "edge", name: inputs().placement.metadata.name },
    server: "s01",
    content: root,
    graceSeconds: 6 * 3600,
    lockWaitMs: 0,
    ...over,
  };
  const d = {
    read: async () => ({ inputs: inputs(), invalid: [] }),
    log: pino({ level: "silent" }),
    now: () => new Date(Date.parse(now) + slept.reduce((a, b) => a + b, 0)),
    signal: new AbortController().signal,
    sleep: async (ms: number) => {
      slept.push(ms);
    },
  };
  return { o, d, slept };
}

/** The files s01 holds under `p`, over the current catalog (as steering and the evict see them). */
const filesOf = (p: Placement) => keptFiles(inputsOf(p, []), [p], "s01").map((f) => f.path);

describe("evict", () => {
  it("refuses a directory without the marker (exit 2), naming it, and removes nothing", async () => {
    const root = await content("no-marker", ["old/x.mp4"], false);
    const { o, d } = run(() => inputsOf(active, [active]), root);
    await expect(evictCommand(o, d)).rejects.toThrow(NotContentRootError);
    await expect(evictCommand(o, d)).rejects.toThrow(`${root} has no ${MARKER}`);
    expect([...(await scanContent(root)).keys()]).toEqual(["old/x.mp4"]);
  });

  it("refuses a Placement not yet Active; does nothing for one already Superseded", async () => {
    const root = await content("phases", ["old/x.mp4"]);
    const filling = run(() => inputsOf(tomorrow, [active, tomorrow]), root);
    await expect(evictCommand(filling.o, filling.d)).rejects.toThrow(/status\.phase is Filling, not Active/);
    const gone = { ...active, status: { phase: "Superseded" as const } };
    const r = run(() => inputsOf(gone, [gone]), root);
    expect((await evictCommand(r.o, r.d)).code).toBe(0);
    expect([...(await scanContent(root)).keys()]).toEqual(["old/x.mp4"]);
  });

  it("waits for signed URLs to expire (a fake clock), then keeps every file a live Placement names", async () => {
    const mine = filesOf(active).slice(0, 3);
    const next = keptFiles(inputsOf(tomorrow, []), [tomorrow], "s01").filter((f) => !filesOf(active).includes(f.path));
    const [nextFile, nextPartial] = next;
    if (!nextFile || !nextPartial) throw new Error("tomorrow's Placement moves too few files onto s01");
    const root = await content("evict", [...mine, nextFile.path, "old/x.mp4"]);
    // A partial download of a file the Filling Placement wants, and one of a file nobody wants.
    const wanted = partialPath(root, nextPartial);
    const stale = partialPath(root, { path: "old/y.mp4", sha256: "0".repeat(64) });
    for (const p of [wanted, stale]) await put(root, p.slice(root.length + 1));
    const { o, d, slept } = run(() => inputsOf(active, [active, tomorrow]), root, {}, "2026-11-26T07:00:00Z");
    const r = await evictCommand(o, d);
    expect(r.code).toBe(0);
    expect(slept).toEqual([4 * 3600_000]);
    const left = [...(await scanContent(root)).keys()].sort();
    expect(left).toEqual([...mine, nextFile.path].sort());
    expect(r.stdout).toEqual({ server: "s01", evicted: { files: 1, bytes: "old/x.mp4".length }, partialsRemoved: 1 });
    await stat(wanted);
    await expect(stat(stale)).rejects.toThrow(/ENOENT/);
  });

  it("never runs while a fill holds the directory: it exits busy (3), the fill's partial download untouched", async () => {
    const root = await content("race", ["old/x.mp4"]);
    const partial = join(root, ".edgefleet/partial/0123456789abcdef0123456789abcdef.part");
    await put(root, ".edgefleet/partial/0123456789abcdef0123456789abcdef.part");
    const fill = await lockContent(root, { holder: "fill of edge/p-new for s01 (pid 42)", waitMs: 0 });
    try {
      const { o, d } = run(() => inputsOf(active, [active]), root);
      const err = await evictCommand(o, d).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContentBusyError);
      expect((err as Error).message).toContain("is locked by fill of edge/p-new for s01 (pid 42)");
      await stat(partial);
      expect([...(await scanContent(root)).keys()]).toEqual(["old/x.mp4"]);
    } finally {
      await fill.release();
    }
  });
});

describe("fill", () => {
  it("refuses a directory with files of its own and no marker (exit 2): nothing is written to it", async () => {
    const root = await content("foreign", ["mysql/ibdata1"], false);
    const { o, d } = run(() => inputsOf(tomorrow, [active, tomorrow]), root);
    await expect(fillCommand(o, d)).rejects.toThrow(
      /holds files \(mysql\/ibdata1, …\) but no \.edgefleet\/content-root/,
    );
    await expect(stat(join(root, ".edgefleet"))).rejects.toThrow(/ENOENT/);
  });
});

describe("keepOf", () => {
  it("refuses when the Active placement the cluster names could not be read: what it serves is unknown", () => {
    const i = { ...inputsOf(tomorrow, [tomorrow]), active: undefined };
    expect(() => keepOf(i, "s01", new Date(promoted), 3600)).toThrow(/Active placement p-active .* could not be read/);
    expect(() => keepOf({ ...i, placements: undefined }, "s01", new Date(promoted), 3600)).toThrow(/were not read/);
  });

  it("does not keep the files of the Placement a lagging cluster status still names once it is Superseded", () => {
    const superseded = { ...active, status: { phase: "Superseded" as const, supersededAt: "2026-11-25T00:00:00Z" } };
    const i = { ...inputsOf(tomorrow, [superseded, tomorrow]), active: superseded };
    const kept = new Set(keepOf(i, "s01", new Date(promoted), 3600).map((f) => f.path));
    expect(kept).toEqual(new Set(filesOf(tomorrow)));
  });

  it("keeps the Active placement's files even when the list of Placements lacks it", () => {
    const kept = new Set(keepOf(inputsOf(tomorrow, [tomorrow]), "s01", new Date(promoted), 3600).map((f) => f.path));
    for (const f of filesOf(active)) expect(kept.has(f), f).toBe(true);
  });
});
