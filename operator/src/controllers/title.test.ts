import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Kinds, mustParse, parseObject, type TitleStatus } from "../api/index.js";
import { loadSamples } from "../api/testdata/samples.js";
import { regionCatalog } from "../catalog/catalog.js";
import type { KubeObject } from "../runtime/kube.js";
import { at, fakeCaches, keptEvents, wiring } from "../runtime/testing.js";
import { popularityStatus } from "./popularity.js";
import { titleController, titleStatus } from "./title.js";

const t0 = new Date("2026-11-26T10:00:00Z");
const samplesOf = (kind: string) =>
  loadSamples()
    .filter((s) => s.object.kind === kind)
    .map((s) => ({ ...s.object, metadata: { ...s.object.metadata, generation: 3 } }) as unknown as KubeObject);

describe("titleStatus", () => {
  it("publishes the ladder, bytes and file count of every sample title, and the result validates", () => {
    for (const t of samplesOf("Title")) {
      const status = titleStatus(t, t0);
      const files = (t.spec as { files: { bytes: number }[] }).files;
      expect(status.fileCount).toBe(files.length);
      expect(status.totalBytes).toBe(files.reduce((a, f) => a + f.bytes, 0));
      expect(status.ladder?.length).toBeGreaterThan(0);
      expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", observedGeneration: 3 });
      expect(parseObject("Title", { ...t, status }).ok).toBe(true);
    }
  });

  it("reports an invalid spec as Ready=False naming the field, with no ladder", () => {
    const [t] = samplesOf("Title");
    if (!t) throw new Error("no sample titles");
    const bad = { ...t, spec: { ...(t.spec as object), durationSeconds: -5 } };
    const status = titleStatus(bad, t0);
    expect(status.ladder).toBeUndefined();
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "False", reason: "InvalidSpec" });
    expect(status.conditions?.[0]?.message).toContain("spec.durationSeconds");
  });

  it("is stable: the same object twice gives the same status", () => {
    const [t] = samplesOf("Title");
    if (!t) throw new Error("no sample titles");
    const once = titleStatus(t, t0);
    expect(titleStatus({ ...t, status: once }, new Date("2026-11-27T00:00:00Z"))).toEqual(once);
  });
});

describe("popularityStatus", () => {
  it("counts titles of each sample region", () => {
    for (const p of samplesOf("Popularity")) {
      const status = popularityStatus(p, t0);
      expect(status.titleCount).toBe(Object.keys((p.spec as { demand: object }).demand).length);
      expect(status.conditions?.[0]?.status).toBe("True");
    }
  });
});

describe("titles sharing a file path", () => {
  const [a, b] = samplesOf("Title").filter((t) => (t.spec as { regions: string[] }).regions.includes("eu-west"));
  if (!a || !b) throw new Error("need two eu-west sample titles");
  type Files = { files: { path: string }[] };
  const shared = (a.spec as Files).files[0]?.path ?? "";
  const older = { ...a, metadata: { ...a.metadata, creationTimestamp: "2026-01-01T00:00:00Z" } };
  const later = {
    ...b,
    metadata: { ...b.metadata, creationTimestamp: "2026-02-01T00:00:00Z" },
    spec: { ...(b.spec as Files), files: [...(b.spec as Files).files, (a.spec as Files).files[0]] },
  } as KubeObject;

  /** Both Titles in a fake cache, wired as the manager wires the controller, and every status it writes. */
  async function reconcileBoth() {
    const caches = fakeCaches();
    const events = keptEvents();
    const written = new Map<string, TitleStatus>();
    const kube = {
      apply: async <T extends KubeObject>(_k: unknown, o: KubeObject) => {
        written.set(o.metadata.name, o.status as TitleStatus);
        return o as T;
      },
    };
    const reconciler = titleController.make({ kube: kube as never, caches, now: () => t0, events });
    wiring(titleController, caches);
    caches.of(Kinds.Title).upsert(at(older, "ns", "1", 1));
    caches.of(Kinds.Title).upsert(at(later, "ns", "2", 1));
    const log = pino({ level: "silent" });
    for (const name of [older.metadata.name, later.metadata.name])
      await reconciler.reconcile({ namespace: "ns", name }, { log, signal: new AbortController().signal });
    return Object.assign(written, { events: events.events });
  }

  it("the later-created one is Valid=False (DuplicatePath) naming the path and the older Title; the older stays Valid", async () => {
    const written = await reconcileBoth();
    const later_ = written.get(b.metadata.name);
    const valid = (s: TitleStatus | undefined) => s?.conditions?.find((c) => c.type === "Valid");
    expect(valid(later_)).toMatchObject({ status: "False", reason: "DuplicatePath" });
    expect(valid(later_)?.message).toContain(`"${shared}" is also a file of Title ${a.metadata.name}, created earlier`);
    expect(later_?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    expect(later_?.ladder?.length).toBeGreaterThan(0);
    expect(valid(written.get(a.metadata.name))).toMatchObject({ status: "True", reason: "Valid" });
    expect(written.events.map((e) => [e.type, e.reason, e.regarding.name])).toEqual([
      ["Warning", "TitleInvalid", b.metadata.name],
    ]);
  });

  it("the operator's and every agent's catalog leave out the same Title the controller calls invalid", async () => {
    const written = await reconcileBoth();
    const titles = [older, later].map((t) => mustParse("Title", { ...t, status: undefined }));
    const pop = mustParse(
      "Popularity",
      samplesOf("Popularity").find((p) => p.metadata.name === "eu-west"),
    );
    const ids = new Set(regionCatalog("eu-west", titles, pop).files.map((f) => f.key.split("/")[0]));
    for (const t of titles) {
      const valid = written.get(t.metadata.name)?.conditions?.find((c) => c.type === "Valid")?.status === "True";
      expect(ids.has(t.spec.id), t.metadata.name).toBe(valid);
    }
  });

  it("an edit of the older Title wakes the later one: dropping the shared path clears its conflict", () => {
    const caches = fakeCaches();
    const w = wiring(titleController, caches);
    caches.of(Kinds.Title).upsert(at(older, "ns", "1", 1));
    caches.of(Kinds.Title).upsert(at(later, "ns", "2", 1));
    expect(w.take()).toEqual([`ns/${a.metadata.name}`, `ns/${b.metadata.name}`].sort());
    const files = (a.spec as Files).files.slice(1);
    const edited: KubeObject = { ...older, spec: { ...(a.spec as Files), files } };
    caches.of(Kinds.Title).upsert(at(edited, "ns", "3", 2));
    expect(w.take()).toEqual([`ns/${a.metadata.name}`, `ns/${b.metadata.name}`].sort());
    caches.of(Kinds.Title).remove(at(older, "ns", "4", 2));
    // Gone: it named none of b's paths any more, so only itself is woken.
    expect(w.take()).toEqual([`ns/${a.metadata.name}`]);
  });
});
